package starlark

import (
	"context"
	"testing"

	"go.starlark.net/starlark"
)

// generate is the work of a subject that generates many services: loops,
// string formatting, dicts and lists.
const generate = `
def generate(n):
    services = {}
    for i in range(n):
        peers = ",".join(["node%d=http://node%d:2380" % (j, j) for j in range(5)])
        services["node%d" % i] = {
            "image": "etcd:v3.5",
            "command": ["etcd", "--name", "node%d" % i, "--initial-cluster", peers],
            "environment": {"ETCD_DATA_DIR": "/data/%d" % i},
            "volumes": ["node%d-data:/data" % i],
        }
    return services
`

// spin is the worst case for the hook: the cheapest steps there are.
const spin = `
def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x
`

// BenchmarkBounded measures what watching memory costs: the same program
// on a bare thread and under Bounded with the default limit (a hook every
// 16 steps, a reading every 4,096, and the sampler's goroutine). generate
// is a subject's work (244,019 steps for 2,000 services); spin is the
// cheapest steps there are.
func BenchmarkBounded(b *testing.B) {
	for name, src := range map[string]string{
		"generate100":  generate + "services = generate(100)\n",
		"generate2000": generate + "services = generate(2000)\n",
		"spin":         spin + "x = spin(1000000)\n",
	} {
		n := name
		b.Run(n+"/bare", func(b *testing.B) {
			for b.Loop() {
				thread := &starlark.Thread{}
				if _, err := starlark.ExecFileOptions(FileOptions, thread, "gen.star", src, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(n+"/bounded", func(b *testing.B) {
			for b.Loop() {
				thread := &starlark.Thread{}
				_, err := Bounded(context.Background(), thread, Limits{}, func(context.Context) (starlark.StringDict, error) {
					return starlark.ExecFileOptions(FileOptions, thread, "gen.star", src, nil)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEval is a whole evaluation generating services, with a fake
// resolver: what the limits cost next to everything else Eval does.
func BenchmarkEval(b *testing.B) {
	files := MapFS{root + "/main.star": generate + `
d = local_deployment(services = generate(1000))
subject(name = "many", target = d)
`}
	for b.Loop() {
		if _, err := Eval(context.Background(), Config{File: root + "/main.star", FS: files, Resolver: &fakeResolver{}}); err != nil {
			b.Fatal(err)
		}
	}
}
