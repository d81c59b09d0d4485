package ansible

import (
	"fmt"
	"sort"
	"strings"
)

// Type is an option type, named as in Ansible's argument_spec.
type Type string

// The option types Ansible modules use.
const (
	TypeStr   Type = "str"
	TypeBool  Type = "bool"
	TypeInt   Type = "int"
	TypeFloat Type = "float"
	TypeList  Type = "list"
	TypeDict  Type = "dict"
	TypePath  Type = "path"
	TypeRaw   Type = "raw"
)

// Option describes one module option, like an entry of Ansible's argument_spec.
type Option struct {
	Type     Type
	Required bool
	Default  any      // nil means "no default": the option is absent (null) when not given
	Choices  []string // allowed values (for lists: allowed elements)
	Aliases  []string
	// NoLog hides the option as Ansible's no_log does: invocation.module_args shows it masked and
	// every string it holds is replaced by "********" wherever else it appears in the result.
	NoLog bool
	// Masked hides the option in invocation.module_args like NoLog, but leaves its strings alone in
	// the rest of the result: for free-form data (Helm values) that may hold a secret among many
	// ordinary words ("cilium", "vxlan") which NoLog would blank out of every message and diff. The
	// module names the secrets it finds in such data with Request.AddNoLogValues.
	Masked   bool
	Elements Type // element type for TypeList
}

// Spec is a module's argument spec.
type Spec struct {
	Name              string // module name, as in "Unsupported parameters for (NAME) module"
	Options           map[string]Option
	MutuallyExclusive [][]string
	RequiredTogether  [][]string
	// SupportsCheckMode false makes the module answer check mode with Ansible's "skipped" result.
	SupportsCheckMode bool
}

// internalKeys are the _ansible_* keys this package reads; every other _ansible_* key is accepted
// and ignored, as Ansible adds new ones over time.
const (
	keyCheckMode = "_ansible_check_mode"
	keyDiff      = "_ansible_diff"
	keyNoLog     = "_ansible_no_log"
	keyVerbosity = "_ansible_verbosity"
	internalPfx  = "_ansible_"
)

// Flags are the _ansible_* settings of one invocation.
type Flags struct {
	CheckMode bool
	Diff      bool
	NoLog     bool
	Verbosity int
}

// validationError carries the first Ansible-style validation message, as AnsibleModule reports it.
type validationError struct{ msg string }

func (e *validationError) Error() string { return e.msg }

// Validate checks raw task arguments against the spec. It returns the options with aliases
// resolved, values coerced to their types and defaults filled in, and the _ansible_* flags.
// Warnings are the non-fatal notes Ansible also gives (string conversions).
func (s *Spec) Validate(raw map[string]any) (params map[string]any, flags Flags, warnings []string, err error) {
	flags, err = readFlags(raw)
	if err != nil {
		return nil, flags, nil, err
	}
	aliasOf := map[string]string{}
	for name, opt := range s.Options {
		for _, a := range opt.Aliases {
			aliasOf[a] = name
		}
	}
	params = map[string]any{}
	var unsupported []string
	for k, v := range raw {
		switch {
		case strings.HasPrefix(k, internalPfx):
			continue
		case s.has(k):
			params[k] = v
		case aliasOf[k] != "":
			if _, dup := raw[aliasOf[k]]; !dup {
				params[aliasOf[k]] = v
			} else {
				warnings = append(warnings, fmt.Sprintf("Both option %s and its alias %s are set.", aliasOf[k], k))
			}
		default:
			unsupported = append(unsupported, k)
		}
	}
	if len(unsupported) > 0 {
		return nil, flags, nil, &validationError{s.unsupportedMsg(unsupported)}
	}
	if err := s.checkGroups(params); err != nil {
		return nil, flags, nil, err
	}
	if err := s.checkRequired(params); err != nil {
		return nil, flags, nil, err
	}
	for _, name := range s.names() {
		opt := s.Options[name]
		v, given := params[name]
		if !given || v == nil {
			params[name] = defaultValue(opt.Default)
			continue
		}
		cv, warn, err := coerce(name, opt.Type, v)
		if err != nil {
			return nil, flags, nil, &validationError{err.Error()}
		}
		if warn != "" {
			warnings = append(warnings, warn)
		}
		if opt.Elements != "" && opt.Type == TypeList {
			if cv, err = coerceElements(name, opt.Elements, cv.([]any)); err != nil {
				return nil, flags, nil, &validationError{err.Error()}
			}
		}
		params[name] = cv
	}
	if err := s.checkChoices(params); err != nil {
		return nil, flags, nil, err
	}
	return params, flags, warnings, nil
}

func (s *Spec) has(name string) bool { _, ok := s.Options[name]; return ok }

// option returns the option a name or an alias stands for (the zero Option when none).
func (s *Spec) option(name string) Option {
	if opt, ok := s.Options[name]; ok {
		return opt
	}
	for _, opt := range s.Options {
		for _, a := range opt.Aliases {
			if a == name {
				return opt
			}
		}
	}
	return Option{}
}

// names returns option names sorted, for deterministic validation order and messages.
func (s *Spec) names() []string {
	out := make([]string, 0, len(s.Options))
	for n := range s.Options {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s *Spec) unsupportedMsg(unsupported []string) string {
	sort.Strings(unsupported)
	var aliases []string
	for _, opt := range s.Options {
		aliases = append(aliases, opt.Aliases...)
	}
	sort.Strings(aliases)
	supported := strings.Join(s.names(), ", ")
	if len(aliases) > 0 {
		supported += " (" + strings.Join(aliases, ", ") + ")"
	}
	return fmt.Sprintf("Unsupported parameters for (%s) module: %s. Supported parameters include: %s.",
		s.Name, strings.Join(unsupported, ", "), supported)
}

func (s *Spec) checkGroups(params map[string]any) error {
	var clash []string
	for _, group := range s.MutuallyExclusive {
		if count(group, params) > 1 {
			clash = append(clash, strings.Join(group, "|"))
		}
	}
	if len(clash) > 0 {
		return &validationError{"parameters are mutually exclusive: " + strings.Join(clash, ", ")}
	}
	for _, group := range s.RequiredTogether {
		if n := count(group, params); n > 0 && n < len(group) {
			return &validationError{"parameters are required together: " + strings.Join(group, ", ")}
		}
	}
	return nil
}

func count(group []string, params map[string]any) int {
	n := 0
	for _, k := range group {
		if v, ok := params[k]; ok && v != nil {
			n++
		}
	}
	return n
}

func (s *Spec) checkRequired(params map[string]any) error {
	var missing []string
	for _, name := range s.names() {
		if s.Options[name].Required {
			if v, ok := params[name]; !ok || v == nil {
				missing = append(missing, name)
			}
		}
	}
	if len(missing) > 0 {
		return &validationError{"missing required arguments: " + strings.Join(missing, ", ")}
	}
	return nil
}

func (s *Spec) checkChoices(params map[string]any) error {
	for _, name := range s.names() {
		opt := s.Options[name]
		if len(opt.Choices) == 0 || params[name] == nil {
			continue
		}
		allowed := map[string]bool{}
		for _, c := range opt.Choices {
			allowed[c] = true
		}
		choices := strings.Join(opt.Choices, ", ")
		if list, ok := params[name].([]any); ok {
			var bad []string
			for _, e := range list {
				if s := fmt.Sprint(e); !allowed[s] {
					bad = append(bad, s)
				}
			}
			if len(bad) > 0 {
				return &validationError{fmt.Sprintf("value of %s must be one or more of: %s. Got no match for: %s",
					name, choices, strings.Join(bad, ", "))}
			}
			continue
		}
		if v := fmt.Sprint(params[name]); !allowed[v] {
			return &validationError{fmt.Sprintf("value of %s must be one of: %s, got: %s", name, choices, v)}
		}
	}
	return nil
}

func readFlags(raw map[string]any) (Flags, error) {
	var f Flags
	var err error
	get := func(key string) bool {
		v, ok := raw[key]
		if !ok || v == nil || err != nil {
			return false
		}
		b, e := toBool(v)
		if e != nil {
			err = &validationError{fmt.Sprintf("internal argument %s: %v", key, e)}
		}
		return b
	}
	f.CheckMode, f.Diff, f.NoLog = get(keyCheckMode), get(keyDiff), get(keyNoLog)
	if v, ok := raw[keyVerbosity]; ok && v != nil {
		n, e := toInt(v)
		if e != nil {
			return f, &validationError{fmt.Sprintf("internal argument %s: %v", keyVerbosity, e)}
		}
		f.Verbosity = int(n)
	}
	return f, err
}

// defaultValue gives a default the shape validated values have ([]string as []any, ints as int64).
func defaultValue(v any) any {
	switch x := v.(type) {
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case int:
		return int64(x)
	}
	return v
}
