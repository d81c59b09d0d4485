package k3sconfig

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// service is what a systemd unit says about how K3s starts: its command line and the
// environment it sets itself (Environment=; EnvironmentFile= is not read: it holds K3S_TOKEN).
type service struct {
	files []string // the unit and the drop-ins read, in order
	argv  []string // the last ExecStart, split into words
	env   map[string]string
}

// readService reads a unit and its drop-ins (<unit>.d/*.conf, by name) as systemd does: later
// settings win, an empty ExecStart= clears the command. A missing unit returns nil.
func readService(unit string) (*service, error) {
	if _, err := os.Stat(unit); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("K3s service: %w", err)
	}
	conf, _ := filepath.Glob(filepath.Join(unit+".d", "*.conf"))
	sort.Strings(conf)
	svc := &service{env: map[string]string{}}
	for _, f := range append([]string{unit}, conf...) {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read K3s service: %w", err)
		}
		for _, kv := range serviceSettings(data) {
			if err := svc.apply(kv[0], kv[1]); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
		}
		svc.files = append(svc.files, f)
	}
	return svc, nil
}

func (s *service) apply(key, value string) error {
	switch key {
	case "ExecStart":
		argv, err := splitWords(value)
		if err != nil {
			return fmt.Errorf("ExecStart: %w", err)
		}
		if len(argv) > 0 {
			argv[0] = strings.TrimLeft(argv[0], "-@:+!") // systemd's prefixes: ignore failure, argv[0], ...
		}
		s.argv = argv
	case "Environment":
		words, err := splitWords(value)
		if err != nil {
			return fmt.Errorf("Environment: %w", err)
		}
		for _, w := range words {
			if k, v, ok := strings.Cut(w, "="); ok {
				s.env[k] = v
			}
		}
	}
	return nil
}

// serviceSettings returns the key=value settings of a unit's [Service] section, continuation
// lines (ending in a backslash) joined and comment lines (# or ;) skipped, even within them.
func serviceSettings(data []byte) [][2]string {
	var out [][2]string
	section, line := "", ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || strings.HasPrefix(text, ";") {
			continue
		}
		if strings.HasSuffix(text, "\\") {
			line += strings.TrimSuffix(text, "\\") + " "
			continue
		}
		line, text = "", line+text
		switch {
		case strings.HasPrefix(text, "[") && strings.HasSuffix(text, "]"):
			section = text
		case section == "[Service]":
			if k, v, ok := strings.Cut(text, "="); ok {
				out = append(out, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
			}
		}
	}
	return out
}

// splitWords splits a command line as systemd does: words separated by blanks, single and double
// quotes around (parts of) a word, backslash escapes outside single quotes.
func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote == '\'' && r != '\'':
			cur.WriteRune(r)
		case r == '\\' && i+1 < len(runes):
			i++
			cur.WriteRune(unescape(runes[i]))
			inWord = true
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '\'' || r == '"'):
			quote, inWord = r, true
		case quote == 0 && (r == ' ' || r == '\t'):
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unbalanced %c quote", quote)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

func unescape(r rune) rune {
	switch r {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	}
	return r
}
