package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/confab-chat/confab/auth"
)

// The pool and app client confab serves by default. The part of the pool
// id after "_" enters every SRP verifier, so it must not change once users
// exist.
const (
	defaultUserPoolID = "local_confab"
	defaultClientID   = "confab"
)

type amplifyConfig struct {
	PublicURL, UserPoolID, ClientID, Format string
}

func amplifySettings(c *amplifyConfig) []setting {
	return []setting{
		{"public-url", "", "the base URL clients use, e.g. https://chat.example.com (required)", str(&c.PublicURL)},
		{"user-pool-id", defaultUserPoolID, "the user pool id confab serves (as confab serve --user-pool-id)", str(&c.UserPoolID)},
		{"client-id", defaultClientID, "the app client id (as confab serve --client-id)", str(&c.ClientID)},
		{"format", "both", "what to print: json (amplify_outputs.json), snippet (the Amplify.configure code) or both", str(&c.Format)},
	}
}

// amplify runs "confab amplify-config": it prints the client configuration
// that points an app written for the recipe at confab: the Gen 2
// amplify_outputs.json and the Amplify.configure call that adds
// userPoolEndpoint, which amplify_outputs.json cannot carry (protocols.md §5).
func (m *Main) amplify(_ context.Context, args []string) error {
	var c amplifyConfig
	fs := flag.NewFlagSet("amplify-config", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = usage(fs, "usage: confab amplify-config --public-url URL [flags]")
	if err := parse(fs, amplifySettings(&c), args, m.Getenv, m.Environ); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("amplify-config: unexpected argument %q", fs.Arg(0))}
	}
	if c.PublicURL == "" {
		return usageError{"amplify-config: --public-url is required (the URL apps reach confab at, e.g. https://chat.example.com)"}
	}
	base, err := checkPublicURL(c.PublicURL)
	if err != nil {
		return err
	}
	region, err := poolRegion(c.UserPoolID)
	if err != nil {
		return err
	}
	outputs, err := json.MarshalIndent(amplifyOutputs(base, region, c.UserPoolID, c.ClientID), "", "  ")
	if err != nil {
		return err
	}
	switch c.Format {
	case "json":
		fmt.Fprintf(m.Stdout, "%s\n", outputs)
	case "snippet":
		fmt.Fprint(m.Stdout, configureSnippet(base))
	case "both":
		fmt.Fprintf(m.Stdout, "// amplify_outputs.json (--format json writes only this)\n%s\n\n// the app's Amplify setup: the outputs plus confab's Cognito endpoint\n%s", outputs, configureSnippet(base))
	default:
		return usageError{fmt.Sprintf("amplify-config: --format %q: want json, snippet or both", c.Format)}
	}
	return nil
}

// poolRegion is the part of a user pool id before "_": Amplify takes it as
// the region, and the part after it as the SRP pool name (protocols.md §4.5).
func poolRegion(poolID string) (string, error) {
	region, name, ok := strings.Cut(poolID, "_")
	if !ok || region == "" || name == "" {
		return "", usageError{fmt.Sprintf("--user-pool-id %q: want <region>_<name> like %s (Amplify needs the underscore)", poolID, defaultUserPoolID)}
	}
	return region, nil
}

// amplifyOutputs is amplify_outputs.json (Gen 2, schema version 1.3) for
// confab at base: the recipe's pool settings (email sign-in, its password
// policy) and the GraphQL API with user-pool authorization.
func amplifyOutputs(base, region, poolID, clientID string) map[string]any {
	p := auth.DefaultPasswordPolicy
	return map[string]any{
		"version": "1.3",
		"auth": map[string]any{
			"aws_region":                         region,
			"user_pool_id":                       poolID,
			"user_pool_client_id":                clientID,
			"username_attributes":                []string{"email"},
			"standard_required_attributes":       []string{"email"},
			"user_verification_types":            []string{"email"},
			"unauthenticated_identities_enabled": false,
			"password_policy": map[string]any{
				"min_length":        p.MinLength,
				"require_lowercase": p.RequireLower,
				"require_uppercase": p.RequireUpper,
				"require_numbers":   p.RequireDigit,
				"require_symbols":   p.RequireSymbol,
			},
		},
		"data": map[string]any{
			"aws_region":                 region,
			"url":                        base + "/graphql",
			"default_authorization_type": "AMAZON_COGNITO_USER_POOLS",
			"authorization_types":        []string{},
		},
	}
}

// configureSnippet is the code that adds confab's Cognito endpoint to a
// configuration read from amplify_outputs.json.
func configureSnippet(base string) string {
	return fmt.Sprintf(`import { Amplify } from 'aws-amplify';
import outputs from './amplify_outputs.json';

Amplify.configure(outputs);
const config = Amplify.getConfig();
Amplify.configure({
  ...config,
  Auth: { Cognito: { ...config.Auth.Cognito, userPoolEndpoint: '%s/cognito' } },
});
`, base)
}
