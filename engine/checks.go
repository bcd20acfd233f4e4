package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// CheckResult is the outcome of one check.
type CheckResult struct {
	Name    string
	Kind    string
	Service string
	OK      bool
	Latency time.Duration
	Detail  string // the status, the output, or why it failed
}

// RunChecks runs the named checks (all when names is empty), in parallel,
// and reports each. It fails only when a check cannot be run at all (an
// unknown name, a target without the Operator interface).
func (s *Subject) RunChecks(ctx context.Context, names []string) ([]CheckResult, error) {
	checks, err := s.selectChecks(names)
	if err != nil {
		return nil, err
	}
	op, ok := s.Target.(target.Operator)
	if !ok && len(checks) > 0 {
		return nil, s.notSupported("check")
	}
	results := make([]CheckResult, len(checks))
	done := make(chan struct{})
	for i, c := range checks {
		go func() {
			defer func() { done <- struct{}{} }()
			results[i] = s.runCheck(ctx, op, c)
		}()
	}
	for range checks {
		<-done
	}
	return results, nil
}

// check is a check of any kind: declared (http, tcp, exec) or a Starlark
// function.
type check struct {
	spec target.CheckSpec
	fn   *FuncCheck
}

func (s *Subject) selectChecks(names []string) ([]check, error) {
	var all []check
	for _, c := range s.Checks {
		all = append(all, check{spec: c})
	}
	for _, f := range s.FuncChecks {
		all = append(all, check{spec: target.CheckSpec{Name: f.Name, Kind: "starlark", Pos: f.Pos}, fn: f})
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []check
	for _, n := range names {
		found := false
		for _, c := range all {
			if c.spec.Name == n {
				out = append(out, c)
				found = true
			}
		}
		if !found {
			var known []string
			for _, c := range all {
				known = append(known, c.spec.Name)
			}
			return nil, fmt.Errorf("no check %q in subject %q%s (checks: %s)", n, s.Name, starlark.DidYouMean(n, known), strings.Join(known, ", "))
		}
	}
	return out, nil
}

func (s *Subject) runCheck(ctx context.Context, op target.Operator, c check) CheckResult {
	r := CheckResult{Name: c.spec.Name, Kind: string(c.spec.Kind), Service: c.spec.Service}
	start := time.Now()
	var err error
	if c.fn != nil {
		fctx, cancel := context.WithTimeoutCause(ctx, c.fn.Timeout, fmt.Errorf("check %s: not done within %s", c.fn.Name, c.fn.Timeout))
		r.Detail, err = s.runFuncCheck(fctx, c.fn)
		cancel()
	} else {
		r.Detail, err = probe(ctx, op, c.spec)
	}
	r.Latency = time.Since(start)
	r.OK = err == nil
	if err != nil {
		r.Detail = err.Error()
	}
	return r
}

// probe runs one declared check. How it reaches the container is in
// docs/checks.md: http and tcp go to a published host port, else to the
// container's address on a project network; exec runs inside.
func probe(ctx context.Context, op target.Operator, c target.CheckSpec) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	switch c.Kind {
	case target.CheckExec:
		res, err := op.Exec(ctx, c.Service, c.Command)
		if err != nil {
			return "", timeoutErr(ctx, c, err)
		}
		out := firstLine(res.Stdout + res.Stderr)
		if res.ExitCode != 0 {
			return "", fmt.Errorf("exit code %d: %s", res.ExitCode, out)
		}
		return "exit code 0", nil
	}
	addr, err := op.Endpoint(ctx, c.Service, c.Port)
	if err != nil {
		return "", err
	}
	switch c.Kind {
	case target.CheckTCP:
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return "", timeoutErr(ctx, c, err)
		}
		conn.Close()
		return "connected to " + addr, nil
	case target.CheckHTTP:
		url := "http://" + addr + c.Path
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		resp, err := checkClient.Do(req)
		if err != nil {
			return "", timeoutErr(ctx, c, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode != c.Expect {
			return "", fmt.Errorf("GET %s: status %d, want %d: %s", url, resp.StatusCode, c.Expect, firstLine(string(body)))
		}
		return fmt.Sprintf("GET %s: %d", url, resp.StatusCode), nil
	}
	return "", fmt.Errorf("unknown check kind %q", c.Kind)
}

// checkClient never uses a proxy (checks talk to this machine's
// containers) and never follows redirects: a check compares the status the
// container returned, and a Location may name a host only the project
// network resolves.
var checkClient = &http.Client{
	Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func timeoutErr(ctx context.Context, c target.CheckSpec, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s (%w)", c.Timeout, err)
	}
	return err
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// WaitChecks runs the checks until all pass or ctx ends; a check that
// passed is not run again. Checks probe the outside of a container, which
// sends no event, so this is the one wait that retries on an interval.
func (s *Subject) WaitChecks(ctx context.Context, interval time.Duration, report func([]CheckResult)) error {
	pending, err := s.selectChecks(nil)
	if err != nil || len(pending) == 0 {
		return err
	}
	op, ok := s.Target.(target.Operator)
	if !ok {
		return s.notSupported("check")
	}
	var last []CheckResult
	for {
		var still []check
		last = last[:0]
		for _, c := range pending {
			r := s.runCheck(ctx, op, c)
			if !r.OK {
				still = append(still, c)
				last = append(last, r)
			}
		}
		if report != nil {
			report(last)
		}
		if len(still) == 0 {
			return nil
		}
		pending = still
		select {
		case <-ctx.Done():
			var lines []string
			for _, r := range last {
				lines = append(lines, fmt.Sprintf("  check %q (%s): %s", r.Name, r.Service, r.Detail))
			}
			return fmt.Errorf("checks not passing: %w\n%s", context.Cause(ctx), strings.Join(lines, "\n"))
		case <-time.After(interval):
		}
	}
}
