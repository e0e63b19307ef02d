package vcluster

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
)

// ErrorDetail is the machine-readable detail the server attaches to its errors, decoded.
type ErrorDetail struct {
	// Reason is a stable UPPER_SNAKE_CASE reason, one of the apiv1.Reason* constants.
	Reason string
	// Field is the path of the offending request field ("spec.replicas"); "" when there is none.
	Field    string
	Metadata map[string]string
	// RetryDelay is how long the server asks the client to wait before retrying; 0 when it does not say.
	RetryDelay time.Duration
	// Violations lists every invalid request field, in the order the server found them.
	Violations []FieldViolation
	// OmittedViolations counts further violations left out to keep the error small.
	OmittedViolations int
}

// FieldViolation names one invalid request field and what is wrong with it.
type FieldViolation struct {
	Field       string
	Description string
}

// DetailOf decodes the ErrorDetail of a Connect error (retried or not); nil when there is none.
func DetailOf(err error) *ErrorDetail {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	for _, d := range ce.Details() {
		msg, derr := d.Value()
		if derr != nil {
			continue
		}
		detail, ok := msg.(*apiv1.ErrorDetail)
		if !ok {
			continue
		}
		out := &ErrorDetail{
			Reason:            detail.GetReason(),
			Field:             detail.GetField(),
			Metadata:          detail.GetMetadata(),
			OmittedViolations: int(detail.GetOmittedViolations()),
		}
		if out.Metadata == nil {
			out.Metadata = map[string]string{}
		}
		if rd := detail.GetRetryDelay(); rd != nil {
			out.RetryDelay = rd.AsDuration()
		}
		for _, v := range detail.GetViolations() {
			out.Violations = append(out.Violations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
		}
		return out
	}
	return nil
}

// ReasonOf returns the ErrorDetail reason of err, or "".
func ReasonOf(err error) string {
	if d := DetailOf(err); d != nil {
		return d.Reason
	}
	return ""
}

// HasReason reports whether err carries an ErrorDetail with the given reason.
func HasReason(err error, reason string) bool { return err != nil && ReasonOf(err) == reason }

func hasCode(err error, code connect.Code) bool {
	var ce *connect.Error
	return errors.As(err, &ce) && ce.Code() == code
}

// IsNotFound reports a NotFound error.
func IsNotFound(err error) bool { return hasCode(err, connect.CodeNotFound) }

// IsAlreadyExists reports an AlreadyExists error.
func IsAlreadyExists(err error) bool { return hasCode(err, connect.CodeAlreadyExists) }

// IsFailedPrecondition reports a FailedPrecondition error (the phase does not allow the call).
func IsFailedPrecondition(err error) bool { return hasCode(err, connect.CodeFailedPrecondition) }

// IsInvalidArgument reports an InvalidArgument error; DetailOf lists the violations.
func IsInvalidArgument(err error) bool { return hasCode(err, connect.CodeInvalidArgument) }

// IsPermissionDenied reports a PermissionDenied error.
func IsPermissionDenied(err error) bool { return hasCode(err, connect.CodePermissionDenied) }

// IsUnauthenticated reports an Unauthenticated error.
func IsUnauthenticated(err error) bool { return hasCode(err, connect.CodeUnauthenticated) }

// IsUnavailable reports an Unavailable error.
func IsUnavailable(err error) bool { return hasCode(err, connect.CodeUnavailable) }

// IsResourceExhausted reports a ResourceExhausted error.
func IsResourceExhausted(err error) bool { return hasCode(err, connect.CodeResourceExhausted) }

// IsResourceVersionExpired reports that a watch version is older than the server's history:
// list again, then watch from the list's version.
func IsResourceVersionExpired(err error) bool {
	return hasCode(err, connect.CodeOutOfRange) && ReasonOf(err) == apiv1.ReasonResourceVersionExpired
}

// RetriedError is the final error of a call that was attempted more than once. It unwraps
// to the last attempt's *connect.Error, so connect.CodeOf, errors.As and DetailOf work unchanged.
type RetriedError struct {
	// Attempts counts the attempts made, the last included.
	Attempts int
	// Previous holds the errors of the earlier attempts, oldest first.
	Previous []error
	// Last is the error of the last attempt (or of the wait before the next one).
	Last error
	note string
}

func (e *RetriedError) Error() string {
	suffix := fmt.Sprintf("after %d attempts", e.Attempts)
	if e.note != "" {
		suffix += "; " + e.note
	}
	return fmt.Sprintf("%v (%s)", e.Last, suffix)
}

func (e *RetriedError) Unwrap() error { return e.Last }

// Attempts returns how many attempts the call that returned err made: 1 unless it was retried.
func Attempts(err error) int {
	var re *RetriedError
	if errors.As(err, &re) {
		return re.Attempts
	}
	return 1
}

// ViolationsText formats every violation of err, one per line, for people.
func ViolationsText(err error) string {
	d := DetailOf(err)
	if d == nil {
		return ""
	}
	lines := make([]string, 0, len(d.Violations)+1)
	for _, v := range d.Violations {
		lines = append(lines, v.Field+": "+v.Description)
	}
	if d.OmittedViolations > 0 {
		lines = append(lines, fmt.Sprintf("(%d more)", d.OmittedViolations))
	}
	return strings.Join(lines, "\n")
}
