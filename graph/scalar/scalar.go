// Package scalar holds the AWS AppSync scalars the schema uses, bound by
// gqlgen.yml. It sits apart from package graph so the generated executor can
// import it without a cycle.
package scalar

import (
	"github.com/confab-chat/confab"
	"io"
	"net/mail"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// awsDateTimeLayout is how confab writes AWSDateTime: RFC 3339 in UTC with
// milliseconds, e.g. 2026-11-25T06:34:55.123Z (protocols.md §3.4).
const awsDateTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalAWSDateTime writes t in UTC with milliseconds.
func MarshalAWSDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, strconv.Quote(t.UTC().Format(awsDateTimeLayout)))
	})
}

// UnmarshalAWSDateTime reads an RFC 3339 date-time (any offset, optional
// fraction) and returns it in UTC.
func UnmarshalAWSDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, confab.Errorf(confab.CodeInvalid, "AWSDateTime must be a string.")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, confab.Errorf(confab.CodeInvalid, "AWSDateTime must be an RFC 3339 date-time with a zone.")
	}
	return t.UTC(), nil
}

// MarshalAWSEmail writes an email address.
func MarshalAWSEmail(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalAWSEmail accepts a bare RFC 5322 address (no display name).
func UnmarshalAWSEmail(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", confab.Errorf(confab.CodeInvalid, "AWSEmail must be a string.")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 {
		return "", confab.Errorf(confab.CodeInvalid, "AWSEmail must be an email address.")
	}
	return s, nil
}

// MarshalString writes a string.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString accepts only a JSON string. gqlgen's default also
// coerces numbers and booleans, which the GraphQL spec's input coercion for
// String forbids (a 42 sent as content must be an error, not "42").
func UnmarshalString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", confab.Errorf(confab.CodeInvalid, "String value expected.")
	}
	return s, nil
}
