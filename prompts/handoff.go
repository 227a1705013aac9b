package prompts

// What the customer hears when their conversation passes to people. Each says what happens
// next and promises nothing the team may not keep: a wait is an estimate, and an after-hours
// reply comes when the team is back. Each documents its input type.
const (
	HandoffInHours      Name = "handoff_in_hours"      // HandoffInHoursInput: queued while the team works, with an expected wait
	HandoffNobodyOnline Name = "handoff_nobody_online" // CustomerInput: in hours, but no agent is online
	HandoffAfterHours   Name = "handoff_after_hours"   // HandoffAfterHoursInput: queued outside business hours
)

// HandoffInHoursInput is the data of HandoffInHours.
type HandoffInHoursInput struct {
	CustomerName string // may be empty
	Wait         string // the expected wait as a phrase, "about 15 minutes" (handoff.WaitPhrase)
}

// HandoffAfterHoursInput is the data of HandoffAfterHours.
type HandoffAfterHoursInput struct {
	CustomerName string // may be empty
	// OpensAt is the next opening as the customer reads it, "Monday at 09:00" or "tomorrow at
	// 09:00" (handoff.When); empty when the team has no opening ahead.
	OpensAt string
	// Zone names the timezone of OpensAt when it is not the customer's own (their timezone is
	// unknown), e.g. "Europe/Berlin"; empty means the customer's own time.
	Zone string
}

var handoffSamples = map[Name]any{
	HandoffInHours:      HandoffInHoursInput{CustomerName: "Ana", Wait: "about 15 minutes"},
	HandoffNobodyOnline: CustomerInput{CustomerName: "Ana"},
	HandoffAfterHours:   HandoffAfterHoursInput{CustomerName: "Ana", OpensAt: "Monday at 09:00"},
}
