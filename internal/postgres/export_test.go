package postgres

// ReadMigrations exposes readMigrations to tests.
var ReadMigrations = readMigrations

// SpellingFix exposes spellingFix to tests.
var SpellingFix = spellingFix

// MaskTrace exposes maskTrace to tests.
var MaskTrace = maskTrace
