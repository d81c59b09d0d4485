package node

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// nftTables are the tables iptables-nft can hold; listing one that does not exist creates nothing.
var nftTables = []string{"raw", "mangle", "nat", "filter", "security"}

// sbinDirs are searched after $PATH: Ansible's non-login shells often lack the sbin dirs.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// backend is one iptables binary: a family (iptables / ip6tables) under one kernel backend.
type backend struct {
	Name   string // iptables-nft, ip6tables-legacy, …
	Path   string
	IPv6   bool
	Legacy bool
	ipt    *iptables.IPTables
}

// lookPath finds a binary in $PATH or the sbin dirs.
func lookPath(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range sbinDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// findBackends returns one backend per (family, kernel backend) found, preferring the explicit
// -nft/-legacy binaries and falling back to plain iptables/ip6tables (whose backend -V names).
// missing lists what was looked for and not found.
func findBackends() (found []*backend, missing []string, err error) {
	for _, fam := range []string{"iptables", "ip6tables"} {
		have := map[bool]bool{}
		for _, name := range []string{fam + "-nft", fam + "-legacy", fam} {
			path, ok := lookPath(name)
			if !ok {
				if name != fam {
					missing = append(missing, name)
				}
				continue
			}
			b, err := newBackend(name, path, fam == "ip6tables")
			if err != nil {
				return nil, missing, err
			}
			if have[b.Legacy] {
				continue
			}
			have[b.Legacy] = true
			found = append(found, b)
		}
	}
	return found, missing, nil
}

func newBackend(name, path string, v6 bool) (*backend, error) {
	out, err := exec.Command(path, "-V").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -V: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	proto := iptables.ProtocolIPv4
	if v6 {
		proto = iptables.ProtocolIPv6
	}
	ipt, err := iptables.New(iptables.Path(path), iptables.IPFamily(proto))
	if err != nil {
		return nil, fmt.Errorf("use %s: %w", path, err)
	}
	legacy := !strings.Contains(string(out), "nf_tables")
	return &backend{Name: name, Path: path, IPv6: v6, Legacy: legacy, ipt: ipt}, nil
}

// tables lists the tables worth reading. For the legacy backend only those the kernel already has
// (/proc/net/ip{,6}_tables_names): listing another would load modules and create it.
func (b *backend) tables() ([]string, error) {
	if !b.Legacy {
		return nftTables, nil
	}
	file := "/proc/net/ip_tables_names"
	if b.IPv6 {
		file = "/proc/net/ip6_tables_names"
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return strings.Fields(string(data)), nil
}

// dump is what one backend's table holds: chain names and every rule, as iptables -S prints them.
type dump struct {
	Backend string
	Table   string
	Chains  []string
	Rules   []string // "-A CHAIN …"
}

func (b *backend) dump(table string) (*dump, error) {
	chains, err := b.ipt.ListChains(table)
	if err != nil {
		var ierr *iptables.Error
		if errors.As(err, &ierr) && ierr.IsNotExist() {
			return nil, nil
		}
		return nil, fmt.Errorf("%s -t %s -S: %w", b.Name, table, err)
	}
	d := &dump{Backend: b.Name, Table: table, Chains: chains}
	for _, c := range chains {
		lines, err := b.ipt.List(table, c)
		if err != nil {
			return nil, fmt.Errorf("%s -t %s -S %s: %w", b.Name, table, c, err)
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "-A ") {
				d.Rules = append(d.Rules, l)
			}
		}
	}
	return d, nil
}

// splitRule splits a line of iptables -S output into arguments: words separated by spaces, with
// double-quoted words (iptables quotes comments) unquoted and \" and \\ unescaped.
func splitRule(line string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\'):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in rule %q", line)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
