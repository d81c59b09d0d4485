package nethost

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSubnetAt(t *testing.T) {
	tests := []struct {
		i       int
		want    string
		wantErr bool
	}{
		{0, "198.18.0.0/24", false},
		{7, "198.18.7.0/24", false},
		{256, "198.19.0.0/24", false},
		{511, "198.19.255.0/24", false},
		{512, "", true},
		{-1, "", true},
	}
	for _, tt := range tests {
		got, err := subnetAt(tt.i)
		if (err != nil) != tt.wantErr || (err == nil && got.String() != tt.want) {
			t.Errorf("subnetAt(%d) = %v, %v; want %s (error %v)", tt.i, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPickSubnet(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name   string
		taken  []string
		inUse  []netip.Prefix
		want   string
		prefix string
	}{
		{"empty", nil, nil, "198.18.0.0/24", "cnm000"},
		{"skips leased", []string{"cnm000", "cnm001"}, nil, "198.18.2.0/24", "cnm002"},
		{"skips a machine route inside the pool", nil, []netip.Prefix{p("198.18.0.0/23")}, "198.18.2.0/24", "cnm002"},
		{"skips a local address", []string{"cnm000"}, []netip.Prefix{p("198.18.1.9/32")}, "198.18.2.0/24", "cnm002"},
		{"default and wide routes are no conflict", nil,
			[]netip.Prefix{p("0.0.0.0/0"), p("198.0.0.0/8"), p("192.0.2.0/24")}, "198.18.0.0/24", "cnm000"},
		{"fills gaps", []string{"cnm000", "cnm002"}, nil, "198.18.1.0/24", "cnm001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			taken := map[string]bool{}
			for _, x := range tt.taken {
				taken[x] = true
			}
			i, sn, err := pickSubnet(taken, tt.inUse)
			if err != nil || sn.String() != tt.want || instancePrefix(i) != tt.prefix {
				t.Errorf("pickSubnet = %d %v %v; want %s %s", i, sn, err, tt.want, tt.prefix)
			}
		})
	}
	t.Run("pool exhausted", func(t *testing.T) {
		if _, _, err := pickSubnet(nil, []netip.Prefix{Pool}); err == nil || !strings.Contains(err.Error(), "no free /24") {
			t.Errorf("want a 'no free /24' error, got %v", err)
		}
	})
}

func TestParseRoutes(t *testing.T) {
	out := `default via 192.0.2.1 dev eth0
192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2
198.18.3.0/24 dev cnm003-br proto kernel scope link src 198.18.3.1
local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1
broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1
unreachable 198.18.9.0/24
`
	var got []string
	for _, p := range parseRoutes(out) {
		got = append(got, p.String())
	}
	want := "192.0.2.0/24 198.18.3.0/24 127.0.0.1/32 127.255.255.255/32 198.18.9.0/24"
	if strings.Join(got, " ") != want {
		t.Errorf("parseRoutes = %v, want %s", got, want)
	}
}

// TestRegistry: leases of dead owners are found stale, live ones are kept, instance names match.
func TestRegistry(t *testing.T) {
	alive := map[int]bool{100: true}
	reg := &registry{dir: t.TempDir(), alive: func(pid int, _ uint64) bool { return alive[pid] }}
	unlock, err := reg.lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, l := range []lease{{Prefix: "cnm000", PID: 100}, {Prefix: "cnm001", PID: 200}} {
		if err := reg.write(l); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := reg.leases()
	if err != nil || len(ls) != 2 {
		t.Fatalf("leases = %v, %v", ls, err)
	}
	if !reg.live(ls[0]) || reg.live(ls[1]) {
		t.Errorf("live(cnm000 owned by running pid) = %v, live(cnm001 owned by dead pid) = %v", reg.live(ls[0]), reg.live(ls[1]))
	}
	if err := reg.remove("cnm001"); err != nil {
		t.Fatal(err)
	}
	if err := reg.remove("cnm001"); err != nil {
		t.Errorf("removing a missing lease must succeed like rm -f: %v", err)
	}
	if ls, _ := reg.leases(); len(ls) != 1 {
		t.Errorf("after remove: %v", ls)
	}
}

func TestProcessAlive(t *testing.T) {
	start, err := processStart(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !processAlive(os.Getpid(), start) {
		t.Error("this process is not alive with its own start time")
	}
	if processAlive(os.Getpid(), start+1) {
		t.Error("a reused PID (different start time) counted as alive")
	}
}

func TestInstanceRE(t *testing.T) {
	tests := map[string]string{
		"cnm007-br":  "cnm007",
		"cnm007-12":  "cnm007",
		"cnm0071-br": "",
		"cni0":       "",
		"/usr/sbin/sshd -D -e -f /tmp/cnimigrate-nethost-cnm042-123/hosts/node-0/sshd_config": "cnm042",
		"xcnm007-br": "",
	}
	for in, want := range tests {
		got := ""
		if m := instanceRE.FindStringSubmatch(in); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("instance of %q = %q, want %q", in, got, want)
		}
	}
}

func TestMountpoints(t *testing.T) {
	base := t.TempDir()
	reg := &registry{dir: filepath.Join(base, "reg"), alive: func(int, uint64) bool { return false }}
	if err := os.MkdirAll(reg.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(base, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(base, "etc", "cni", "net.d")
	if err := ensureMountpoints(reg, []string{target, filepath.Join(base, "etc")}); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(target); err != nil || !st.IsDir() {
		t.Fatalf("mount point not created: %v", err)
	}
	if err := removeIdleMountpoints(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, "etc", "cni")); !os.IsNotExist(err) {
		t.Errorf("created dir left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "etc")); err != nil {
		t.Errorf("pre-existing dir removed: %v", err)
	}
}
