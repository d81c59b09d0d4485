package ansible

import (
	"sort"
	"strings"
)

// maskedValue is what Ansible shows in invocation.module_args for no_log options.
const maskedValue = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

// mask returns the options as shown in invocation.module_args: no_log and masked options (named
// directly or by an alias) masked, a path option holding anything but one-line paths masked (a
// kubeconfig's contents pasted where its path belongs), everything masked when the task itself is
// no_log.
func mask(spec Spec, params map[string]any, all bool) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		if strings.HasPrefix(k, internalPfx) {
			continue
		}
		opt := spec.option(k)
		if v != nil && (all || opt.NoLog || opt.Masked || !pathLike(opt, v)) {
			v = maskedValue
		}
		out[k] = v
	}
	return out
}

// pathLike reports whether v, given for opt, is what a path option should hold: one-line strings.
// Options of other types are always "path-like".
func pathLike(opt Option, v any) bool {
	oneLine := func(e any) bool {
		s, ok := e.(string)
		return ok && !strings.ContainsAny(s, "\r\n")
	}
	switch {
	case opt.Type == TypePath:
		return oneLine(v)
	case opt.Type == TypeList && opt.Elements == TypePath:
		list, ok := v.([]any)
		if !ok {
			return oneLine(v) // a comma-separated string
		}
		for _, e := range list {
			if !oneLine(e) {
				return false
			}
		}
	}
	return true
}

// maskNoLog masks unvalidated raw options when validation failed and no spec lookup is reliable:
// values of keys that look secret are hidden too.
func maskNoLog(raw map[string]any) map[string]any {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "pass") || strings.Contains(lk, "token") || strings.Contains(lk, "secret") || strings.Contains(lk, "key") {
			v = maskedValue
		}
		out[k] = plain(v)
	}
	return out
}

// secrets lists the string values of no_log options: they must not appear anywhere in the output.
func secrets(spec Spec, params map[string]any) []string {
	var out []string
	for name, opt := range spec.Options {
		if !opt.NoLog {
			continue
		}
		collectStrings(params[name], &out)
	}
	return out
}

func collectStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		if len(x) > 0 {
			*out = append(*out, x)
		}
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case map[string]any:
		for _, e := range x {
			collectStrings(e, out)
		}
	}
}

// sanitize replaces every occurrence of a secret in the result's strings with "********", as
// Ansible's remove_values does. invocation was masked already. Longer secrets go first, so that a
// secret holding a shorter one is not left half replaced.
func sanitize(v map[string]any, secrets []string) {
	if len(secrets) == 0 {
		return
	}
	secrets = append([]string(nil), secrets...)
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for k, e := range v {
		if k == "invocation" {
			continue
		}
		v[k] = scrub(e, secrets)
	}
}

func scrub(v any, secrets []string) any {
	switch x := v.(type) {
	case string:
		for _, s := range secrets {
			x = strings.ReplaceAll(x, s, "********")
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = scrub(e, secrets)
		}
		return x
	case []string:
		for i, e := range x {
			x[i] = scrub(e, secrets).(string)
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = scrub(e, secrets)
		}
		return x
	case []Diff:
		for i := range x {
			x[i].Before, x[i].After = scrub(x[i].Before, secrets).(string), scrub(x[i].After, secrets).(string)
		}
		return x
	case Diff:
		x.Before, x.After = scrub(x.Before, secrets).(string), scrub(x.After, secrets).(string)
		return x
	case []Deprecation:
		for i := range x {
			x[i].Msg = scrub(x[i].Msg, secrets).(string)
		}
		return x
	}
	return v
}
