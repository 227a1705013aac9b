package baton

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Error kinds. Every layer wraps them; one function in internal/web maps them to HTTP statuses.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrTooLarge     = errors.New("too large")
	ErrUnavailable  = errors.New("unavailable")
)

// Error is an error whose message is safe to show to the caller.
type Error struct {
	Kind    error  // one of the Err* kinds above
	Code    string // machine-readable, e.g. "invalid_signature"
	Message string // human-readable, safe to return to clients
}

func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf builds an *Error of the given kind with a formatted client-safe message.
func Errorf(kind error, code, format string, args ...any) error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is shorthand for a validation error with the code "invalid_request".
func Invalid(format string, args ...any) error {
	return Errorf(ErrInvalid, "invalid_request", format, args...)
}

// JSONProblem describes a JSON decoding error in words fit for a 4xx body or a log, without
// quoting the input: where the syntax broke, which field had the wrong type, or that it ended
// early.
func JSONProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %s must be %s", typ.Field, typ.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return err.Error()
}
