package k3sconfig

import (
	"regexp"
	"strings"
)

// commandLine is a K3s command line: k3s [global flags] server|agent [flags].
type commandLine struct {
	command string   // server or agent; "" when the command line runs something else
	flags   []string // the arguments after the command
}

func parseCommandLine(argv []string) commandLine {
	for i, a := range argv {
		if i > 0 && (a == "server" || a == "agent") {
			return commandLine{command: a, flags: argv[i+1:]}
		}
	}
	return commandLine{}
}

// flagArg is one flag of a command line: its name without dashes and its value (inline after =,
// or the next argument for flags that take one).
type flagArg struct {
	name, value string
	inline      bool
}

// each calls fn for every flag of the command line. takesValue says whether a flag without an
// inline value consumes the next argument (bool flags never do).
func (c commandLine) each(takesValue func(name string) bool, fn func(flagArg)) {
	for i := 0; i < len(c.flags); i++ {
		a := c.flags[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			continue
		}
		name, value, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !inline && takesValue(name) && i+1 < len(c.flags) {
			i++
			value = c.flags[i]
		}
		fn(flagArg{name: name, value: value, inline: inline})
	}
}

// takesValue: the watched bool flags take none; every other flag this package looks at
// (flannel-backend, cluster-cidr, config, the secret ones) takes one.
func takesValue(name string) bool {
	if w, ok := watched[name]; ok {
		return w.kind != kindBool
	}
	return name == "config" || name == "c" || secretFlag(name)
}

// configFile is the config file the command line names (--config, -c), or "".
func (c commandLine) configFile() string {
	file := ""
	c.each(takesValue, func(f flagArg) {
		if f.name == "config" || f.name == "c" {
			file = f.value
		}
	})
	return file
}

// apply adds the command line's watched flags to s, after the config files as K3s orders them:
// a single value replaces, a list value adds. It returns the values of secret flags.
func (c commandLine) apply(source string, s settings) (secrets []string) {
	c.each(takesValue, func(f flagArg) {
		if secretFlag(f.name) {
			secrets = append(secrets, f.value)
			return
		}
		w, ok := watched[f.name]
		if !ok {
			return
		}
		value := f.value
		if w.kind == kindBool && !f.inline {
			value = "true"
		}
		if cur, ok := s[f.name]; ok && w.kind == kindList {
			cur.values, cur.sources = append(cur.values, value), append(cur.sources, source)
			return
		}
		s[f.name] = &setting{values: []string{value}, sources: []string{source}}
	})
	return secrets
}

var envRef = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)

// envRefs lists the environment variables the command line expands ($VAR, ${VAR}): systemd fills
// them from EnvironmentFile=, which this package does not read.
func envRefs(argv []string) []string {
	var out []string
	for _, a := range argv {
		out = append(out, envRef.FindAllString(a, -1)...)
	}
	return unique(out)
}
