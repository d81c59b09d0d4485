package k3sconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v2"
)

// setting is what the configuration gives one flag so far: its values as K3s would pass them on
// its command line, and where each came from.
type setting struct {
	values  []string
	sources []string
}

// settings maps a flag name (without dashes) to what is set for it.
type settings map[string]*setting

// dropIns lists the drop-ins of a config file, <file>.d/*.yaml and *.yml (any case), sorted by
// name as K3s reads them. A missing directory has none.
func dropIns(file string) ([]string, error) {
	dir := file + ".d"
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read K3s config drop-ins: %w", err)
	}
	var out []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	sort.Strings(out)
	return out, nil
}

// readConfigFiles merges the config file (when it exists) and its drop-ins, in that order, into s.
// It returns the files read and the values of keys that hold secrets.
func readConfigFiles(file string, watched map[string]bool, s settings) (read, secrets []string, err error) {
	files, err := dropIns(file)
	if err != nil {
		return nil, nil, err
	}
	switch _, err := os.Stat(file); {
	case err == nil:
		files = append([]string{file}, files...)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, fmt.Errorf("K3s config: %w", err)
	}
	for _, f := range files {
		sec, err := mergeFile(f, watched, s)
		if err != nil {
			return read, secrets, err
		}
		read, secrets = append(read, f), append(secrets, sec...)
	}
	return read, secrets, nil
}

// mergeFile applies one config file to s as K3s does: key by key in file order, a plain key
// replacing what earlier files set, a key ending in "+" appending to it. Only watched keys are
// kept; the values of secret keys are returned, never stored.
func mergeFile(file string, watched map[string]bool, s settings) (secrets []string, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read K3s config: %w", err)
	}
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("K3s config %s is not a YAML mapping: %s", file, withoutValues(err))
	}
	for _, item := range doc {
		key := fmt.Sprint(item.Key)
		name, appendTo := strings.TrimSuffix(key, "+"), strings.HasSuffix(key, "+")
		values := toStrings(item.Value)
		if secretFlag(name) {
			secrets = append(secrets, values...)
		}
		if !watched[name] {
			continue
		}
		if cur, ok := s[name]; ok && appendTo {
			cur.values, cur.sources = append(cur.values, values...), append(cur.sources, file)
			continue
		}
		s[name] = &setting{values: values, sources: []string{file}}
	}
	return secrets, nil
}

// quoted is how the YAML parser quotes the start of a value in its messages ("cannot unmarshal
// !!str `K10abcd...`"): a token's first characters are still part of the token.
var quoted = regexp.MustCompile("`[^`]*`")

// withoutValues is the parser's message (which names the line) without the values it quotes.
func withoutValues(err error) string {
	return quoted.ReplaceAllString(err.Error(), "(value not shown)")
}

// toStrings renders a config value as the command-line values K3s makes of it: one per list item,
// scalars as text (true, false, numbers), an empty value as "".
func toStrings(v any) []string {
	switch x := v.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, scalar(e))
		}
		return out
	default:
		return []string{scalar(x)}
	}
}

func scalar(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// secretFlag reports whether a K3s flag carries a secret: the join tokens, the datastore's
// connection string (with its password), S3 and VPN credentials.
func secretFlag(name string) bool {
	if strings.HasSuffix(name, "-file") || strings.HasSuffix(name, "-secret") { // a path, a Secret's name
		return false
	}
	if name == "t" { // --token's short name
		return true
	}
	for _, s := range []string{"token", "password", "secret-key", "access-key", "vpn-auth", "datastore-endpoint"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}
