package ansible

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Arguments are decoded with json.Number so that 1 and 1.0 keep the int/float distinction
// Python's json module gives Ansible modules.

// pyType names a decoded JSON value the way Python prints its type, as Ansible's messages do.
func pyType(v any) string {
	switch x := v.(type) {
	case string:
		return "<class 'str'>"
	case bool:
		return "<class 'bool'>"
	case json.Number:
		if isIntNumber(x) {
			return "<class 'int'>"
		}
		return "<class 'float'>"
	case int, int64:
		return "<class 'int'>"
	case float64:
		return "<class 'float'>"
	case []any:
		return "<class 'list'>"
	case map[string]any:
		return "<class 'dict'>"
	case nil:
		return "<class 'NoneType'>"
	}
	return fmt.Sprintf("<class '%T'>", v)
}

func isIntNumber(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

// coerce converts v to the option type t, with Ansible's conversions. The warning is set when a
// non-string was converted to a string, as Ansible warns.
func coerce(name string, t Type, v any) (any, string, error) {
	var out any
	var err error
	warn := ""
	switch t {
	case TypeStr, TypePath:
		var s string
		s, warn, err = toStr(v)
		out = s
		if err == nil && t == TypePath {
			if strings.ContainsAny(s, "\r\n") {
				// A file's contents (a kubeconfig) pasted where its path belongs: refuse without
				// repeating it (the invocation masks it too).
				err = fmt.Errorf("a path has one line, this value has several (a file's contents instead of its path?) and is not shown")
			}
			out = expandPath(s)
		}
	case TypeBool:
		out, err = toBool(v)
	case TypeInt:
		out, err = toInt(v)
	case TypeFloat:
		out, err = toFloat(v)
	case TypeList:
		out, err = toList(v)
	case TypeDict:
		out, err = toDict(v)
	case TypeRaw, "":
		out = plain(v)
	default:
		return nil, "", fmt.Errorf("internal error: option %s has unknown type %q", name, t)
	}
	if err != nil {
		return nil, "", fmt.Errorf("argument '%s' is of type %s and we were unable to convert to %s: %v",
			name, pyType(v), t, err)
	}
	return out, warn, nil
}

func coerceElements(name string, t Type, list []any) ([]any, error) {
	out := make([]any, len(list))
	for i, e := range list {
		cv, _, err := coerce(name, t, e)
		if err != nil {
			var conv string
			if _, c, e2 := splitConvErr(err); e2 {
				conv = c
			}
			return nil, fmt.Errorf("Elements value for option '%s' is of type %s and we were unable to convert to %s: %s",
				name, pyType(e), t, conv)
		}
		out[i] = cv
	}
	return out, nil
}

// splitConvErr extracts the reason after "unable to convert to X: " from a coerce error.
func splitConvErr(err error) (string, string, bool) {
	msg := err.Error()
	i := strings.Index(msg, "unable to convert to ")
	if i < 0 {
		return "", msg, false
	}
	rest := msg[i+len("unable to convert to "):]
	j := strings.Index(rest, ": ")
	if j < 0 {
		return "", rest, false
	}
	return rest[:j], rest[j+2:], true
}

func toStr(v any) (string, string, error) {
	switch x := v.(type) {
	case string:
		return x, "", nil
	case json.Number, bool:
		s := fmt.Sprint(x)
		if b, ok := x.(bool); ok {
			s = map[bool]string{true: "True", false: "False"}[b]
		}
		return s, fmt.Sprintf("The value %s (type %s) in a string field was converted to '%s' (type string). "+
			"If this does not look like what you expect, quote the entire value to ensure it does not change.",
			s, strings.Trim(pyType(x), "<>'class "), s), nil
	}
	return "", "", fmt.Errorf("%s cannot be converted to a str", pyType(v))
}

var (
	boolTrue  = map[string]bool{"y": true, "yes": true, "on": true, "1": true, "true": true, "t": true, "1.0": true}
	boolFalse = map[string]bool{"n": true, "no": true, "off": true, "0": true, "false": true, "f": true, "0.0": true}
)

func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string, json.Number:
		s := strings.ToLower(strings.TrimSpace(fmt.Sprint(x)))
		if boolTrue[s] {
			return true, nil
		}
		if boolFalse[s] {
			return false, nil
		}
		return false, fmt.Errorf("The value '%v' is not a valid boolean.  Valid booleans include: "+
			"'no', 'on', 1, 'y', 'false', 'f', 'n', 0, 'off', '1', 'yes', 'true', 't', '0'", x)
	}
	return false, fmt.Errorf("%s cannot be converted to a bool", pyType(v))
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		if isIntNumber(x) {
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
		}
		// Python's int check accepts only ints and numeric strings, not floats.
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	case int:
		return int64(x), nil
	}
	return 0, fmt.Errorf("%s cannot be converted to an int", pyType(v))
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil && !math.IsInf(f, 0) {
			return f, nil
		}
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%s cannot be converted to a float", pyType(v))
}

func toList(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return plain(x).([]any), nil
	case string:
		if x == "" {
			return []any{}, nil
		}
		var out []any
		for _, p := range strings.Split(x, ",") {
			out = append(out, p)
		}
		return out, nil
	case json.Number:
		return []any{string(x)}, nil
	}
	return nil, fmt.Errorf("%s cannot be converted to a list", pyType(v))
}

func toDict(v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return plain(x).(map[string]any), nil
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "{") {
			var m map[string]any
			if err := json.Unmarshal([]byte(s), &m); err != nil {
				return nil, fmt.Errorf("unable to evaluate string as dictionary")
			}
			return m, nil
		}
		if strings.Contains(s, "=") {
			m := map[string]any{}
			for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
				k, val, ok := strings.Cut(f, "=")
				if !ok {
					return nil, fmt.Errorf("dictionary requested, could not parse JSON or key=value")
				}
				m[k] = val
			}
			return m, nil
		}
		return nil, fmt.Errorf("dictionary requested, could not parse JSON or key=value")
	}
	return nil, fmt.Errorf("%s cannot be converted to a dict", pyType(v))
}

// plain turns json.Number values into int64 or float64 so that domain code sees ordinary Go values.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if isIntNumber(x) {
			if n, err := x.Int64(); err == nil {
				return n
			}
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return v
}

// expandPath does what Ansible's "path" type does: expand ~ and environment variables.
func expandPath(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return os.ExpandEnv(p)
}
