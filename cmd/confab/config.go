package main

import (
	"flag"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// setting is one row of the configuration table: a flag, its environment
// variable CONFAB_<FLAG> (dashes become underscores), its default and help.
type setting struct {
	name  string
	def   string
	help  string
	apply func(*flag.FlagSet, string, string) // registers the flag with the effective default
}

func str(p *string) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) { fs.StringVar(p, name, def, "") }
}

func boolean(p *bool) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		b, _ := strconv.ParseBool(def) // validated in envDefaults
		fs.BoolVar(p, name, b, "")
	}
}

func duration(p *time.Duration) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		d, _ := time.ParseDuration(def) // validated in envDefaults
		fs.DurationVar(p, name, d, "")
	}
}

func float(p *float64) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		f, _ := strconv.ParseFloat(def, 64) // validated in checkType
		fs.Float64Var(p, name, f, "")
	}
}

func integer(p *int) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		n, _ := strconv.Atoi(def) // validated in envDefaults
		fs.IntVar(p, name, n, "")
	}
}

// envName is the environment variable of a flag: --tls-cert → CONFAB_TLS_CERT.
func envName(flagName string) string {
	return "CONFAB_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse registers settings on fs, takes defaults from the environment
// (flags win over env, env over built-in defaults), and parses args. An
// environment value of the wrong type is an error, as is an unknown
// CONFAB_ variable among known ones (a typo would otherwise be ignored
// silently).
func parse(fs *flag.FlagSet, settings []setting, args []string, getenv func(string) string, environ []string) error {
	for _, s := range settings {
		def := s.def
		if v := getenv(envName(s.name)); v != "" {
			def = v
		}
		if err := checkType(s, def); err != nil {
			return fmt.Errorf("%s: %w", envName(s.name), err)
		}
		s.apply(fs, s.name, def)
		fs.Lookup(s.name).Usage = fmt.Sprintf("%s (env %s, default %q)", s.help, envName(s.name), s.def)
	}
	known := knownEnv()
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "CONFAB_") && !strings.HasPrefix(name, "CONFAB_TEST_") && !known[name] {
			return fmt.Errorf("unknown environment variable %s", name)
		}
	}
	return fs.Parse(args)
}

// checkType validates a default or environment value against the flag's type.
func checkType(s setting, v string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(devNull{})
	s.apply(fs, s.name, s.def)
	if err := fs.Set(s.name, v); err != nil {
		return fmt.Errorf("invalid value %q", v)
	}
	return nil
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// knownEnv returns every environment variable of every subcommand.
func knownEnv() map[string]bool {
	known := map[string]bool{}
	for _, t := range [][]setting{serveSettings(&serveConfig{}), userSettings(&userConfig{}), benchSettings(&benchConfig{}), backupSettings(&backupConfig{}), migrateSettings(&migrateConfig{}), amplifySettings(&amplifyConfig{})} {
		for _, s := range t {
			known[envName(s.name)] = true
		}
	}
	return known
}

// usage prints a subcommand's table.
func usage(fs *flag.FlagSet, title string) func() {
	return func() {
		out := fs.Output()
		fmt.Fprintln(out, title)
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		sort.Strings(names)
		for _, n := range names {
			f := fs.Lookup(n)
			fmt.Fprintf(out, "  --%-22s %s\n", n, f.Usage)
		}
	}
}
