package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	gojson "go.starlark.net/lib/json"
	gostarlark "go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/starlark"
)

// exec(service, command, timeout = "30s") -> struct(exit_code, stdout, stderr)
func (r *runner) exec(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var svc string
	var argv starlark.Argv
	timeout := starlark.Duration{D: 30 * time.Second}
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "command", &argv, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return r.step(t, "exec", svc+" "+strings.Join(argv, " "), svc, timeout.D, func(ctx context.Context) (gostarlark.Value, error) {
		res, err := r.op.Exec(ctx, svc, argv)
		if err != nil {
			return nil, err
		}
		return structOf(gostarlark.StringDict{
			"exit_code": gostarlark.MakeInt(res.ExitCode),
			"stdout":    gostarlark.String(res.Stdout),
			"stderr":    gostarlark.String(res.Stderr),
		}), nil
	})
}

// check(name) -> bool: run one of the subject's checks once.
func (r *runner) check(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var name string
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	return r.step(t, "check", name, "", 0, func(ctx context.Context) (gostarlark.Value, error) {
		results, err := r.subject.RunChecks(ctx, []string{name})
		if err != nil {
			return nil, err
		}
		return gostarlark.Bool(results[0].OK), nil
	})
}

// http(service, port, path, method = "GET", body = None, timeout = "5s")
// -> struct(status, body, json()). A dict or list body is sent as JSON.
func (r *runner) http(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var (
		svc     string
		path    string
		port    starlark.Port
		method                   = "GET"
		body    gostarlark.Value = gostarlark.None
		timeout                  = starlark.Duration{D: 5 * time.Second}
	)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "port", &port, "path", &path,
		"method?", &method, "body?", &body, "timeout?", &timeout); err != nil {
		return nil, err
	}
	var payload []byte
	switch v := body.(type) {
	case gostarlark.NoneType:
	case gostarlark.String:
		payload = []byte(v)
	default:
		encoded, err := gostarlark.Call(t, gojson.Module.Members["encode"], gostarlark.Tuple{body}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter body: %v", b.Name(), err)
		}
		payload = []byte(encoded.(gostarlark.String))
	}
	return r.step(t, "http", fmt.Sprintf("%s %s:%d%s", method, svc, port, path), svc, timeout.D, func(ctx context.Context) (gostarlark.Value, error) {
		addr, err := r.op.Endpoint(ctx, svc, int(port))
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		if len(payload) > 0 && json.Valid(payload) {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := checkClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if err != nil {
			return nil, err
		}
		text := gostarlark.String(data)
		decode := gostarlark.NewBuiltin("json", func(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
			if err := gostarlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			return gostarlark.Call(t, gojson.Module.Members["decode"], gostarlark.Tuple{text}, nil)
		})
		return structOf(gostarlark.StringDict{"status": gostarlark.MakeInt(resp.StatusCode), "body": text, "json": decode}), nil
	})
}
