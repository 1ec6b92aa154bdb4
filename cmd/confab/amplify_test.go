package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
)

func runAmplifyConfig(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	err := m.Run(t.Context(), append([]string{"amplify-config"}, args...))
	return out.String(), err
}

// TestAmplifyConfig (#11 item 8): the Gen 2 amplify_outputs.json points
// the app's pool and GraphQL API at the public URL, and the snippet adds
// the Cognito endpoint, which amplify_outputs.json cannot carry.
func TestAmplifyConfig(t *testing.T) {
	out, err := runAmplifyConfig(t, "--public-url", "https://chat.example.com/", "--format", "json", "--client-id", "web")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version string
		Auth    struct {
			AWSRegion          string   `json:"aws_region"`
			UserPoolID         string   `json:"user_pool_id"`
			UserPoolClientID   string   `json:"user_pool_client_id"`
			UsernameAttributes []string `json:"username_attributes"`
			PasswordPolicy     struct {
				MinLength int `json:"min_length"`
			} `json:"password_policy"`
		}
		Data struct {
			URL     string
			Default string `json:"default_authorization_type"`
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--format json is not JSON: %v\n%s", err, out)
	}
	if !strings.HasPrefix(got.Version, "1") || got.Auth.UserPoolID != "local_confab" || got.Auth.AWSRegion != "local" ||
		got.Auth.UserPoolClientID != "web" || got.Data.URL != "https://chat.example.com/graphql" ||
		got.Data.Default != "AMAZON_COGNITO_USER_POOLS" || got.Auth.PasswordPolicy.MinLength != 8 ||
		len(got.Auth.UsernameAttributes) != 1 || got.Auth.UsernameAttributes[0] != "email" {
		t.Errorf("amplify_outputs.json = %+v", got)
	}

	snippet, err := runAmplifyConfig(t, "--public-url", "https://chat.example.com", "--format", "snippet")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(snippet, "userPoolEndpoint: 'https://chat.example.com/cognito'") || !strings.Contains(snippet, "Amplify.configure(outputs)") {
		t.Errorf("snippet:\n%s", snippet)
	}
	both, err := runAmplifyConfig(t, "--public-url", "https://chat.example.com")
	if err != nil || !strings.Contains(both, `"user_pool_id": "local_confab"`) || !strings.Contains(both, "userPoolEndpoint") {
		t.Errorf("default output (%v):\n%s", err, both)
	}
}

// TestAmplifyConfig_BadSettings: each mistake is a usage error naming it.
func TestAmplifyConfig_BadSettings(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "--public-url"},
		{[]string{"--public-url", "chat.example.com"}, "--public-url"},
		{[]string{"--public-url", "https://chat.example.com", "--user-pool-id", "confab"}, "--user-pool-id"},
		{[]string{"--public-url", "https://chat.example.com", "--format", "yaml"}, "--format"},
	} {
		_, err := runAmplifyConfig(t, tt.args...)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err %v, want a usage error naming %s", tt.args, err, tt.want)
		}
	}
}
