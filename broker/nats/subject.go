package nats

import (
	"encoding/base64"
	"strings"
)

// subjectPrefix puts every confab subject under one root, so confab can
// share a NATS account with other applications.
const subjectPrefix = "confab."

// encodedToken marks a subject whose topic is base64url-encoded.
const encodedToken = "_b64"

// subject maps a broker topic to a NATS subject: "conv.<id>" becomes
// "confab.conv.<id>". A topic that is not a safe subject (empty tokens,
// wildcards, spaces or other characters outside [A-Za-z0-9_-]) is sent
// base64url-encoded under confab._b64., so no topic is ever a wildcard and
// two topics never share a subject.
func subject(topic string) string {
	if safeTopic(topic) {
		return subjectPrefix + topic
	}
	return subjectPrefix + encodedToken + "." + base64.RawURLEncoding.EncodeToString([]byte(topic))
}

func safeTopic(topic string) bool {
	tokens := strings.Split(topic, ".")
	if tokens[0] == encodedToken {
		return false
	}
	for _, tok := range tokens {
		if tok == "" {
			return false
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}
