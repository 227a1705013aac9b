package postgres

// ReadMigrations exposes readMigrations to tests.
var ReadMigrations = readMigrations
