package probe

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/cnimigrate/cnimigrate/internal/connectivity/result"
)

// curl exit codes (see curl's libcurl-errors / "EXIT CODES" in curl(1)).
const (
	curlOK              = 0
	curlCouldntResolve  = 6
	curlCouldntConnect  = 7
	curlTimedOut        = 28
	curlSSLConnect      = 35
	curlGotNothing      = 52
	curlSendError       = 55
	curlRecvError       = 56
	curlPeerFailedVerif = 60
)

// ParseCurl reads the --write-out lines CurlCommand prints (one per sample) and ignores anything
// else. A line it cannot read is an error: the image's curl is too old or the output is not curl's.
func ParseCurl(out string) ([]Sample, error) {
	var samples []Sample
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if !strings.HasPrefix(line, sampleMarker+" ") {
			continue
		}
		s, err := parseCurlLine(strings.TrimPrefix(line, sampleMarker+" "))
		if err != nil {
			return samples, fmt.Errorf("curl output line %q: %w", line, err)
		}
		samples = append(samples, s)
	}
	return samples, nil
}

// parseCurlLine reads "<exitcode> <http_code> <time_connect> <time_total> <errormsg...>".
func parseCurlLine(line string) (Sample, error) {
	f := strings.SplitN(line, " ", 5)
	if len(f) < 4 {
		return Sample{}, fmt.Errorf("want exit code, HTTP code, connect and total time, got %d fields", len(f))
	}
	exit, err := strconv.Atoi(f[0])
	if err != nil {
		return Sample{}, fmt.Errorf("exit code %q is not a number (curl older than 7.75 prints %%{exitcode} literally)", f[0])
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return Sample{}, fmt.Errorf("HTTP code %q is not a number", f[1])
	}
	connect, err1 := strconv.ParseFloat(f[2], 64)
	total, err2 := strconv.ParseFloat(f[3], 64)
	if err1 != nil || err2 != nil {
		return Sample{}, fmt.Errorf("times %q/%q are not numbers", f[2], f[3])
	}
	msg := ""
	if len(f) == 5 {
		msg = strings.TrimSpace(f[4])
	}
	s := Sample{Outcome: curlOutcome(exit, msg), TotalMs: total * 1000}
	if code != 0 {
		s.Detail = fmt.Sprintf("HTTP %d", code)
	}
	if s.Outcome == result.Success {
		s.LatencyMs, s.HasLatency = connect*1000, true
	} else {
		s.Err = fmt.Sprintf("curl exit %d: %s", exit, msg)
	}
	return s, nil
}

// curlOutcome classifies curl's exit code. Exit 7 covers refused and unreachable alike; the message
// tells them apart ("Connection refused" or "Couldn't connect to server" vs "No route to host").
func curlOutcome(exit int, msg string) result.Outcome {
	lower := strings.ToLower(msg)
	switch exit {
	case curlOK:
		return result.Success
	case curlTimedOut:
		return result.Timeout
	case curlCouldntConnect:
		switch {
		case strings.Contains(lower, "no route") || strings.Contains(lower, "unreachable"):
			return result.Unreachable
		case strings.Contains(lower, "timed out") || strings.Contains(lower, "timeout"):
			return result.Timeout
		}
		return result.Refused
	case curlCouldntResolve:
		return result.DNSError
	case curlGotNothing, curlSendError, curlRecvError, curlSSLConnect:
		return result.Reset
	}
	return result.Error
}
