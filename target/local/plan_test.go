package local

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"

	"github.com/opdeploy/opdeploy/target"
)

// golden compares got with testdata/name, or rewrites it when
// UPDATE_GOLDEN is set: the one switch for every golden file in the
// repository, testscript sections included.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func TestReconcile(t *testing.T) {
	svc := func(name string, replicas int, hash, imageID string) desiredService {
		return desiredService{Config: types.ServiceConfig{Name: name}, Replicas: replicas, Hash: hash, Image: "img/" + name, ImageID: imageID}
	}
	ctr := func(service string, n int, state target.State, hash, imageID string) observedContainer {
		name := "p-" + service + "-" + string(rune('0'+n))
		return observedContainer{ID: "id-" + name, Name: name, Service: service, Number: n, State: state, Hash: hash, ImageID: imageID}
	}
	known := map[string]bool{"db": true, "web": true, "init": true, "app": true, "side": true, "other": true}
	cases := []struct {
		name     string
		services []desiredService
		obs      observedState
		opts     reconcileOptions
	}{
		{
			name:     "cold",
			services: []desiredService{svc("db", 1, "h1", "sha:db"), svc("web", 2, "h2", "")},
			obs:      observedState{Networks: map[string]observedResource{}, Volumes: map[string]observedResource{}},
		},
		{
			name:     "noop",
			services: []desiredService{svc("db", 1, "h1", "sha:db"), svc("web", 2, "h2", "sha:web")},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("db", 1, target.StateRunning, "h1", "sha:db"),
				ctr("web", 1, target.StateRunning, "h2", "sha:web"),
				ctr("web", 2, target.StateRunning, "h2", "sha:web"),
			}},
		},
		{
			name:     "changes",
			services: []desiredService{svc("db", 1, "h1-new", "sha:db"), svc("web", 1, "h2", "sha:web2"), svc("init", 1, "h3", "sha:init")},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("db", 1, target.StateRunning, "h1", "sha:db"),
				ctr("web", 1, target.StateRunning, "h2", "sha:web"),
				ctr("web", 2, target.StateRunning, "h2", "sha:web"),
				ctr("init", 1, target.StateExited, "h3", "sha:init"),
				ctr("gone", 1, target.StateRunning, "h9", "sha:gone"),
			}},
		},
		{
			name:     "completed-oneshot-and-leftover",
			services: []desiredService{svc("init", 1, "h3", "sha:init"), svc("db", 1, "h1", "sha:db")},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				func() observedContainer {
					c := ctr("init", 1, target.StateExited, "h3", "sha:init")
					c.Completed = true
					return c
				}(),
				ctr("db", 1, target.StateRunning, "h1", "sha:db"),
				{ID: "0123456789abcdef", Name: "0123456789ab_p-db-1", Service: "db", Number: 1, State: target.StateExited, Hash: "h1", ImageID: "sha:db"},
			}},
		},
		{
			// Someone made a container by hand with db-1's labels: it is a
			// duplicate, not the leftover of a recreate.
			name:     "duplicate-labels",
			services: []desiredService{svc("db", 1, "h1", "sha:db")},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("db", 1, target.StateRunning, "h1", "sha:db"),
				{ID: "fedcba9876543210", Name: "my-copy-of-db", Service: "db", Number: 1, State: target.StateRunning, Hash: "h1", ImageID: "sha:db"},
			}},
		},
		{
			name:     "force-and-orphans",
			services: []desiredService{svc("db", 1, "h1", "sha:db")},
			opts:     reconcileOptions{ForceRecreate: true, RemoveOrphans: true},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("db", 1, target.StateRunning, "h1", "sha:db"),
				ctr("gone", 1, target.StateRunning, "h9", "sha:gone"),
			}},
		},
		{
			name:     "no-recreate",
			services: []desiredService{svc("db", 1, "h1-new", "sha:db")},
			opts:     reconcileOptions{NoRecreate: true},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("db", 1, target.StateExited, "h1", "sha:db"),
			}},
		},
		{
			name:     "build",
			services: []desiredService{{Config: types.ServiceConfig{Name: "app"}, Replicas: 1, Hash: "h", Image: "p-app", ImageID: "sha:old", Build: true}},
			opts:     reconcileOptions{Build: true},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				{ID: "id-app", Name: "p-app-1", Service: "app", Number: 1, State: target.StateRunning, Hash: "h", ImageID: "sha:old"},
			}},
		},
		{
			// db is recreated; web declares depends_on db with restart:
			// true, so its running container is restarted, and the plan
			// says so (--dry-run shows every container action up takes).
			name: "restart-dependents",
			services: []desiredService{svc("db", 1, "h1-new", "sha:db"), func() desiredService {
				s := svc("web", 1, "h2", "sha:web")
				s.Config.DependsOn = types.DependsOnConfig{"db": {Condition: types.ServiceConditionHealthy, Restart: true}}
				return s
			}()},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("db", 1, target.StateRunning, "h1", "sha:db"),
				ctr("web", 1, target.StateRunning, "h2", "sha:web"),
			}},
		},
		{
			// db was paused behind opdeploy's back and web cut off its
			// network: up makes them whole again without recreating them.
			name: "repair",
			services: []desiredService{
				func() desiredService { s := svc("db", 1, "h1", "sha:db"); s.Networks = []string{"p_default"}; return s }(),
				func() desiredService {
					s := svc("web", 1, "h2", "sha:web")
					s.Networks = []string{"p_default"}
					return s
				}(),
			},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				func() observedContainer {
					c := ctr("db", 1, target.StatePaused, "h1", "sha:db")
					c.Networks = []string{"p_default"}
					return c
				}(),
				ctr("web", 1, target.StateRunning, "h2", "sha:web"),
			}},
		},
		{
			// A network of that name exists without the project's label.
			name:     "foreign-network",
			services: []desiredService{svc("db", 1, "h1", "sha:db")},
			obs:      observedState{Networks: map[string]observedResource{}, ForeignNetworks: map[string]bool{"p_default": true}, Volumes: map[string]observedResource{"p_data": {}}},
		},
		{
			// web's image is pulled (pull_policy: always): its container is
			// kept unless the pulled image differs, decided once it is pulled.
			name: "pull-pending",
			services: []desiredService{svc("db", 1, "h1", "sha:db"), func() desiredService {
				s := svc("web", 1, "h2", "sha:web")
				s.Pull = "always"
				return s
			}()},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("db", 1, target.StateRunning, "h1", "sha:db"),
				ctr("web", 1, target.StateRunning, "h2", "sha:web"),
			}},
		},
		{
			// The same, planned again after the pull made a new image.
			name: "pull-done",
			services: []desiredService{svc("db", 1, "h1", "sha:db"), func() desiredService {
				s := svc("web", 1, "h2", "sha:web-new")
				s.Pull = "always"
				return s
			}()},
			opts: reconcileOptions{ImagesDone: true},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("db", 1, target.StateRunning, "h1", "sha:db"),
				ctr("web", 1, target.StateRunning, "h2", "sha:web"),
			}},
		},
		{
			// side joins app's network namespace; app's definition changed,
			// so side is recreated with it (its container keeps app's old
			// ID). other mounts db's volumes; db is only started.
			name: "namespace-owner-recreated",
			services: []desiredService{svc("app", 1, "h1-new", "sha:app"), func() desiredService {
				s := svc("side", 1, "h2", "sha:side")
				s.Config.NetworkMode = "service:app"
				return s
			}(), svc("db", 1, "h3", "sha:db"), func() desiredService {
				s := svc("other", 1, "h4", "sha:other")
				s.Config.VolumesFrom = []string{"db:ro"}
				return s
			}()},
			obs: observedState{Networks: map[string]observedResource{"p_default": {}}, Volumes: map[string]observedResource{"p_data": {}}, Containers: []observedContainer{
				ctr("app", 1, target.StateRunning, "h1", "sha:app"),
				ctr("side", 1, target.StateRunning, "h2", "sha:side"),
				ctr("db", 1, target.StateExited, "h3", "sha:db"),
				ctr("other", 1, target.StateRunning, "h4", "sha:other"),
			}},
		},
		{
			// The default network's definition changed (its hash label
			// differs): it is recreated, web's running container is stopped,
			// reconnected and started, and side, in web's network namespace,
			// is restarted once web is ready. db is recreated anyway. The
			// volume's definition changed too: it is kept, with its data.
			name: "network-changed",
			services: []desiredService{svc("db", 1, "h1-new", "sha:db"), svc("web", 1, "h2", "sha:web"), func() desiredService {
				s := svc("side", 1, "h3", "sha:side")
				s.Config.NetworkMode = "service:web"
				s.Config.DependsOn = types.DependsOnConfig{"web": {Condition: types.ServiceConditionStarted, Restart: true, Required: true}}
				return s
			}()},
			obs: observedState{
				Networks: map[string]observedResource{"p_default": {Hash: "net-old", Attached: []string{"id-p-db-1", "id-p-web-1"}}},
				Volumes:  map[string]observedResource{"p_data": {Hash: "vol-old"}},
				Containers: []observedContainer{
					ctr("db", 1, target.StateRunning, "h1", "sha:db"),
					ctr("web", 1, target.StateRunning, "h2", "sha:web"),
					ctr("side", 1, target.StateRunning, "h3", "sha:side"),
				}},
		},
		{
			// The same, while a container outside the project runs on the
			// network: recreating it would cut that one off.
			name:     "network-changed-foreign",
			services: []desiredService{svc("web", 1, "h2", "sha:web")},
			obs: observedState{
				Networks: map[string]observedResource{"p_default": {Hash: "net-old", Attached: []string{"id-p-web-1"}, Foreign: []string{"someone-else"}}},
				Volumes:  map[string]observedResource{"p_data": {Hash: "vol"}},
				Containers: []observedContainer{
					ctr("web", 1, target.StateRunning, "h2", "sha:web"),
				}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := reconcile("p", []desiredResource{{Key: "default", Name: "p_default", Hash: "net"}}, []desiredResource{{Key: "data", Name: "p_data", Hash: "vol"}}, c.services, known, c.obs, c.opts)
			golden(t, "plan-"+c.name+".txt", p.String())
		})
	}
}

func TestStopWaves(t *testing.T) {
	services := map[string][]container.Summary{"db": nil, "api": nil, "web": nil, "x": nil, "y": nil, "solo": nil}
	dependents := map[string][]string{"db": {"api"}, "api": {"web"}, "x": {"y"}, "y": {"x"}}
	got := fmt.Sprint(stopWaves(services, dependents))
	if want := "[[solo web] [api] [db] [x y]]"; got != want {
		t.Errorf("waves %s, want %s", got, want)
	}
}
