// Package handoff decides how a conversation passes from the bot to people: the business hours
// of a team (Calendar), the order of the queue (Priority), what a waiting customer is told
// (ExpectedWait) and the pre-triaged package an agent reads instead of the transcript
// (Summarize). It is pure: it imports the root package and the standard library only, and
// declares the small interfaces it needs (Completer) for adapters to satisfy.
package handoff
