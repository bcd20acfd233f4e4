package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// defaultProbeURL returns the health URL of a service listening on listen
// (a --listen value): wildcard or empty hosts become 127.0.0.1, and the
// port defaults to 8080.
func defaultProbeURL(listen string) string {
	host, port := "", "8080"
	if listen != "" {
		if h, p, err := net.SplitHostPort(listen); err == nil {
			host, port = h, p
		} else if !strings.Contains(listen, ":") {
			port = listen // a bare port, "9090"
		}
	}
	if port == "" || port == "0" {
		port = "8080"
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/health"
}

// probe GETs url and returns a one-line result; the error is non-nil unless
// the status is 2xx.
func probe(ctx context.Context, url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "testsvc-probe")
	client := &http.Client{
		// No proxy from the environment, no connection reuse: a probe is
		// one request to a local address.
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(io.LimitReader(resp.Body, 512)).ReadString('\n')
	line = strings.TrimSpace(line)
	result := fmt.Sprintf("GET %s: %s", url, resp.Status)
	if line != "" {
		result += ": " + line
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", errors.New(result)
	}
	return result, nil
}

// runProbe implements "testsvc probe".
func runProbe(p *proc, args []string) int {
	cfg, err := parseProbeConfig(args, envMap(p.environ), p.stderr)
	if err != nil {
		return usageExitCode(err)
	}
	result, err := probe(context.Background(), cfg.url, cfg.timeout)
	if err != nil {
		fmt.Fprintf(p.stderr, "testsvc probe: %s\n", oneLine(err.Error()))
		return 1
	}
	fmt.Fprintf(p.stdout, "testsvc probe: %s\n", oneLine(result))
	return 0
}

// oneLine folds s onto a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
