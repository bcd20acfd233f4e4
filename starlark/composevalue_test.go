package starlark

import (
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// nested is a subject whose web service carries a value nested depth
// levels deep (counting the services dict and the service's own dict).
func nested(depth int) MapFS {
	return MapFS{root + "/main.star": fmt.Sprintf(`v = 1
for i in range(%d):
    v = {"a": v}
d = local_deployment(services = {"web": {"image": "x", "x-data": v}})
subject(name = "deep", target = d)
`, depth-2)}
}

// A value nested deeper than compose files ever are is refused at the
// call, naming where it is. Without the bound, 3,000 levels kept compose-go
// busy for 22 s and 100,000 for more than ten minutes.
func TestDeepValueIsRefused(t *testing.T) {
	mustEval(t, nested(maxValueDepth), nil)
	wantError(t, nested(maxValueDepth+1),
		`/subjects/main.star:4:21: local_deployment: for parameter services: services["web"]["x-data"]["a"]["a"]["a"]["a"]["a"]["a"]…(92 levels more): nested more than 100 levels deep (compose files nest a few)`)
	wantError(t, nested(100_000),
		`/subjects/main.star:4:21: local_deployment: for parameter services: services["web"]["x-data"]["a"]["a"]["a"]["a"]["a"]["a"]…(92 levels more): nested more than 100 levels deep (compose files nest a few)`)
}

// A value that contains itself once recursed until Go's stack overflowed.
func TestSelfContainingValueIsRefused(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": `
svc = {"image": "x"}
svc["self"] = svc
local_deployment(services = {"web": svc})
`}, `/subjects/main.star:4:17: local_deployment: for parameter services: services["web"]["self"]: the value contains itself`)
	wantError(t, MapFS{root + "/main.star": `
cmd = ["run"]
cmd.append(cmd)
local_deployment(services = {"web": {"image": "x", "command": cmd}})
`}, `/subjects/main.star:4:17: local_deployment: for parameter services: services["web"]["command"][1]: the value contains itself`)
}

// The same list twice is not a cycle.
func TestSharedValueIsAccepted(t *testing.T) {
	_, r := mustEval(t, MapFS{root + "/main.star": `
cmd = ["run", "--fast"]
d = local_deployment(services = {"a": {"image": "x", "command": cmd}, "b": {"image": "x", "command": cmd}})
subject(name = "shared", target = d)
`}, nil)
	if got := r.calls[0].Services["b"].(map[string]any)["command"]; fmt.Sprint(got) != "[run --fast]" {
		t.Errorf("b's command = %v", got)
	}
}

// Messages show a user's value briefly, however big it is: a key that is a
// tuple nested 10,000 deep once printed 30,000 characters.
func TestMessagesShowValuesBriefly(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": `
k = ()
for i in range(10000):
    k = (k,)
local_deployment(services = {"web": {"labels": {k: "v"}}})
`}, `/subjects/main.star:5:17: local_deployment: for parameter services: services["web"]["labels"]: key (((((…,),),),),): got tuple, want string`)
	wantError(t, MapFS{root + "/main.star": `local_deployment(services = {"web": {"labels": {"` + strings.Repeat("k", 1000) + `": 1 << 100}}})`},
		`/subjects/main.star:1:17: local_deployment: for parameter services: services["web"]["labels"]["`+strings.Repeat("k", 40)+`"…]: integer 1267650600228229401496703205376 is too large`)
}

func TestBrief(t *testing.T) {
	deep := starlark.Value(starlark.NewList(nil))
	for range 100_000 {
		deep = starlark.NewList([]starlark.Value{deep})
	}
	long := starlark.NewList(nil)
	for i := range 100_000 {
		long.Append(starlark.MakeInt(i))
	}
	small := starlark.NewDict(2)
	_ = small.SetKey(starlark.String("a"), starlark.Tuple{starlark.MakeInt(1)})
	_ = small.SetKey(starlark.String("b"), starlark.NewSet(0))
	for _, c := range []struct {
		v    starlark.Value
		want string
	}{
		// Small values read as str() writes them.
		{small, `{"a": (1,), "b": set([])}`},
		{starlark.Tuple{starlark.None, starlark.Bool(true), starlark.Float(1.5), starlark.Bytes("b")}, `(None, True, 1.5, b"b")`},
		// Big ones are cut.
		{deep, `[[[[[…]]]]]`},
		{starlark.String(strings.Repeat("x", 1<<20)), `"` + strings.Repeat("x", 120) + `"…`},
	} {
		if got := Brief(c.v); got != c.want {
			t.Errorf("Brief = %s, want %s", got, c.want)
		}
	}
	if got := Brief(long); len(got) > 2*briefLen || !strings.HasPrefix(got, "[0, 1, 2,") || !strings.HasSuffix(got, "…]") {
		t.Errorf("Brief of a long list = %s", got)
	}
}

// The conversion costs time in proportion to the value, not to its size
// times its depth: paths are formatted only for an error.
func BenchmarkToGo(b *testing.B) {
	deep := starlark.Value(starlark.String("leaf"))
	for range maxValueDepth - 1 {
		d := starlark.NewDict(1)
		_ = d.SetKey(starlark.String("key"), deep)
		deep = d
	}
	wide := starlark.NewDict(1000)
	for i := range 1000 {
		svc := starlark.NewDict(4)
		_ = svc.SetKey(starlark.String("image"), starlark.String("x"))
		_ = svc.SetKey(starlark.String("command"), starlark.NewList([]starlark.Value{starlark.String("run"), starlark.MakeInt(i)}))
		_ = svc.SetKey(starlark.String("environment"), starlark.NewList([]starlark.Value{starlark.String("A=1"), starlark.String("B=2")}))
		_ = wide.SetKey(starlark.String(fmt.Sprintf("node%d", i)), svc)
	}
	for _, c := range []struct {
		name string
		v    starlark.Value
	}{{"deep", deep}, {"wide", wide}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := toGo(c.v, "services"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
