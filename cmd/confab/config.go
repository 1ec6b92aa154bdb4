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
// A numeric limit that a package defaults has the default "0" and its apply
// wrapped in pkgDefault: the package's value is then written once, in the
// package, and -h shows it.
type setting struct {
	name  string
	def   string
	help  string
	apply func(*flag.FlagSet, string, string) // registers the flag with the effective default
}

// pkgDefault wraps a numeric flag's apply so that -h shows what 0 stands
// for: the default of the package that fills it in (owner, e.g. "chat"),
// value as that package has it.
func pkgDefault(apply func(*flag.FlagSet, string, string), owner string, value any) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		apply(fs, name, def)
		f := fs.Lookup(name)
		f.Value = zeroMeans{Value: f.Value, means: fmt.Sprintf("%v, %s's default", value, owner)}
	}
}

// zeroMeans is a flag value whose zero stands for a package's default; its
// String says which.
type zeroMeans struct {
	flag.Value
	means string
}

func (z zeroMeans) String() string {
	s := z.Value.String()
	if n, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64); err == nil && n == 0 {
		return s + " (= " + z.means + ")"
	}
	return s
}

func str(p *string) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) { fs.StringVar(p, name, def, "") }
}

func boolean(p *bool) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		b, _ := strconv.ParseBool(def) // validated by checkType
		fs.BoolVar(p, name, b, "")
	}
}

func duration(p *time.Duration) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		d, _ := time.ParseDuration(def) // validated by checkType
		fs.DurationVar(p, name, d, "")
	}
}

func float(p *float64) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		f, _ := strconv.ParseFloat(def, 64) // validated by checkType
		fs.Float64Var(p, name, f, "")
	}
}

func integer(p *int) func(*flag.FlagSet, string, string) {
	return func(fs *flag.FlagSet, name, def string) {
		n, _ := strconv.Atoi(def) // validated by checkType
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
// silently). Each flag's usage shows its effective default: the
// environment's value when set, and what a 0 stands for (pkgDefault).
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
		fs.Lookup(s.name).Usage = fmt.Sprintf("%s (env %s; default %s)", s.help, envName(s.name), shown(s, s.def))
		if def != s.def {
			fs.Lookup(s.name).Usage = fmt.Sprintf("%s (env %s = %s; built-in default %s)", s.help, envName(s.name), shown(s, def), shown(s, s.def))
		}
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

// shown is the value v of setting s as -h prints it: as the flag holds it
// (1h0m0s for 1h), with what a 0 stands for (pkgDefault), "" when empty.
func shown(s setting, v string) string {
	fs := flag.NewFlagSet("shown", flag.ContinueOnError)
	s.apply(fs, s.name, v)
	if out := fs.Lookup(s.name).Value.String(); out != "" {
		return out
	}
	return `""`
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// knownEnv returns every environment variable of every subcommand.
func knownEnv() map[string]bool {
	known := map[string]bool{}
	for _, t := range [][]setting{serveSettings(&serveConfig{}), userSettings(&userConfig{}), benchSettings(&benchConfig{}), backupSettings(&backupConfig{}), migrateSettings(&migrateConfig{}), amplifySettings(&amplifyConfig{}), inviteSettings(&inviteConfig{})} {
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
