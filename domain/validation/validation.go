// Package validation holds the one error type the domain uses to refuse
// input: it names the offending field by its path in the request, so every
// layer above can tell the caller exactly what to fix.
//
//	return validation.New("items[0].quantity", "invalid_quantity", "quantity must be at least 1")
package validation

import "fmt"

// Error reports one invalid field. Field is a JSON-style path such as
// "items[2].unit_amount"; Code is a stable snake_case machine code.
type Error struct {
	Field   string
	Code    string
	Message string
}

// New returns an *Error for field with a stable code and a plain message.
func New(field, code, message string) *Error {
	return &Error{Field: field, Code: code, Message: message}
}

// Newf is New with a formatted message.
func Newf(field, code, format string, args ...any) *Error {
	return &Error{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Indexed returns the path of element i of a list field: Indexed("items", 2)
// is "items[2]".
func Indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }
