// Package nethost creates throw-away "node hosts" on this machine for Ansible to reach over SSH:
// each host is a network namespace plus a mount and UTS namespace, running its own sshd.
//
// API (stable; other packages build on it):
//
//	hs, err := nethost.Create(ctx, nethost.Config{
//		Names:  []string{"server-0", "agent-1"},                   // required, valid hostnames
//		Groups: map[string][]string{"servers": {"server-0"}, "agents": {"agent-1"}}, // optional
//		Dirs:   nil,      // per-host directories; nil means DefaultDirs
//		WorkDir: "",      // parent of the harness temp dir; "" means os.TempDir()
//		Vars: nil, HostVars: nil, // extra inventory variables (all hosts / per host), optional
//	})
//	defer hs.Destroy()                 // idempotent, like rm -f; safe after a failed Create
//	// or in two parts, to start a server on the gateway while the slow part runs:
//	hs, err := nethost.Begin(ctx, cfg) // names, addresses and the bridge (gateway address up)
//	err = hs.Finish(ctx)               // namespaces, keys, sshd, wait; Destroy if either fails
//	hs.GatewayIP()                     // the bridge's .1 address (controller side; serve the API here)
//	hs.Subnet()                        // the /24 the hosts live in
//	hs.List()                          // []nethost.Host{Name, IP}; h.Root() is the host's files
//	hs.Host("agent-1")                 // (Host, bool): one host by name
//	hs.InventoryPath(), hs.KnownHostsPath(), hs.KeyPath()
//	hs.SSHArgs("agent-1")              // argv of an ssh login as the inventory does it; append a command
//	hs.Exec(ctx, "agent-1", "ip", "link") // (stdout, error): run inside the host's net+mount+UTS namespaces
//	hs.Prefix(), hs.Dir(), hs.SSHDLog("agent-1") // instance name prefix, work dir, sshd log
//	hs.WaitSSH(ctx)                    // a login on every host; Create/Finish already waited (every
//	                                   // sshd's banner, a login on the first and last host)
//	nethost.Cleanup(nethost.Prefix)    // sweep leftovers whose owner process is dead
//
// For tests: nethosttest.Start(t, n) (hosts node-0 … node-(n-1), groups servers=[node-0] and
// agents=[the rest]) or nethosttest.StartConfig(t, cfg); both skip under -short and when not root,
// and destroy the hosts in t.Cleanup. To run a playbook against them, see internal/testbed/playbook.
//
// # What a host is
//
// A host is a network namespace ("<prefix>-<i>") holding eth0, one end of a veth pair whose other
// end is attached to a private bridge ("<prefix>-br") in the root namespace. The bridge holds the
// gateway address (.1 of the host's /24); host i gets .(i+2). Each /24 lies in 198.18.0.0/15
// (RFC 2544, benchmarking) and is leased to one harness instance at a time (lease files under
// /run/cnimigrate/nethost, guarded by a flock), so parallel tests and a lab never collide. The
// instance prefix is "cnm" plus the subnet's index (e.g. "cnm007"), short enough for Linux's
// 15-character interface names. Hosts get lo and their connected /24 only: no default route and
// no forwarding, so nothing they send can leave this machine.
//
// sshd (Debian's /usr/sbin/sshd, foreground) runs inside the host's netns and inside its own private
// mount namespace, where per-host directories (DefaultDirs: CNI config and binaries, Calico state,
// K3s config, containerd config) are bind-mounted from Host.Root() — so a test can pre-populate and
// inspect, from the root namespace, exactly the files a module sees on that host. /sys is remounted
// so /sys/class/net shows the host's links, and the hostname is the host's name. Everything else
// (/usr, /root, /tmp, ...) is this machine's: modules run as root on the real file system outside
// the bind-mounted directories — except root's ~/.bashrc and ~/.profile, which a host replaces with
// a comment (Debian's bash runs ~/.bashrc for every command sshd starts, and a developer's is no
// part of a node). Mount points missing on this machine are created and removed again
// when the last harness instance goes away.
//
// Auth is by key only: an ed25519 client key for the harness, one ed25519 host key per host, and a
// known_hosts file the inventory points ssh at with StrictHostKeyChecking=yes.
//
// # Leaving nothing behind
//
// Create records its lease (owner PID and start time, work dir) before touching the system, and
// sshd dies with the process that created it (PR_SET_PDEATHSIG). Destroy kills every process in
// the hosts' namespaces, deletes the namespaces, veths and bridge, removes the work dir and
// releases the lease. If the owner was killed before it could do that, the next Create (or
// Cleanup) sweeps everything named with a prefix whose lease owner is dead.
package nethost
