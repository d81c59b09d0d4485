package probe

// Loopback servers the real tools are recorded against. Nothing here leaves 127.0.0.1 (or a
// private network namespace of our own).

import (
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

const httpOK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

// tcpServer accepts connections on 127.0.0.1 and hands each to handle with its 1-based number.
func tcpServer(t *testing.T, handle func(n int, c *net.TCPConn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(int(n.Add(1)), c.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return l.Addr().(*net.TCPAddr).Port
}

// serveOK answers one HTTP request with 200.
func serveOK(_ int, c *net.TCPConn) {
	defer c.Close()
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); err == nil {
		_, _ = c.Write([]byte(httpOK))
	}
}

// serveReset aborts the connection with a TCP RST once the request arrived.
func serveReset(_ int, c *net.TCPConn) {
	buf := make([]byte, 4096)
	_, _ = c.Read(buf)
	_ = c.SetLinger(0)
	_ = c.Close()
}

// serveAlternating answers odd connections and resets even ones: a flaky path.
func serveAlternating(n int, c *net.TCPConn) {
	if n%2 == 1 {
		serveOK(n, c)
		return
	}
	serveReset(n, c)
}

// serveStall accepts and never answers (until the client gives up).
func serveStall(_ int, c *net.TCPConn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// closedPort returns a loopback port nothing listens on (TCP and UDP).
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// dnsServer answers A queries on 127.0.0.1/udp from records; names map to an address, or to
// "NXDOMAIN"/"SERVFAIL". silent makes it read queries and never answer.
func dnsServer(t *testing.T, records map[string]string, silent bool) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if silent {
				continue
			}
			if resp, err := dnsAnswer(buf[:n], records); err == nil {
				_, _ = pc.WriteTo(resp, addr)
			}
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func dnsAnswer(query []byte, records map[string]string) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	rec := records[q.Name.String()]
	hdr := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	switch rec {
	case "", "NXDOMAIN":
		hdr.RCode = dnsmessage.RCodeNameError
	case "SERVFAIL":
		hdr.RCode = dnsmessage.RCodeServerFailure
	}
	b := dnsmessage.NewBuilder(nil, hdr)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if ip := net.ParseIP(rec).To4(); ip != nil && q.Type == dnsmessage.TypeA {
		if err := b.StartAnswers(); err != nil {
			return nil, err
		}
		rh := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 5}
		if err := b.AResource(rh, dnsmessage.AResource{A: [4]byte(ip)}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// waitListening polls until something accepts TCP connections on port.
func waitListening(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on 127.0.0.1:%d", port)
}
