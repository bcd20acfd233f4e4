package local

import (
	"fmt"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestRefOrderPutsOwnersFirst(t *testing.T) {
	svc := func(name, netmode string, volumesFrom ...string) desiredService {
		s := desiredService{}
		s.Config.Name, s.Config.NetworkMode, s.Config.VolumesFrom = name, netmode, volumesFrom
		return s
	}
	got := refOrder([]desiredService{svc("a", "service:z"), svc("b", ""), svc("c", "", "a:ro", "container:x"), svc("z", "")})
	var names []string
	for _, s := range got {
		names = append(names, s.name())
	}
	if fmt.Sprint(names) != "[z a b c]" {
		t.Errorf("order %v", names)
	}
}

func TestOwnerIDsSkipContainersPutAside(t *testing.T) {
	got := ownerIDs([]observedContainer{
		{ID: "0123456789abcdef", Name: "0123456789ab_p-app-1", Service: "app", Number: 1},
		{ID: "id-app-1", Name: "p-app-1", Service: "app", Number: 1},
		{ID: "id-app-2", Name: "p-app-2", Service: "app", Number: 2},
		{ID: "id-db-3", Name: "p-db-3", Service: "db", Number: 3},
	})
	if fmt.Sprint(got) != "map[app:id-app-1 db:id-db-3]" {
		t.Errorf("owners %v", got)
	}
}

func TestOwnerReplacedSaysWhy(t *testing.T) {
	s := types.ServiceConfig{Name: "side"}
	s.Ipc, s.VolumesFrom = "service:app", []string{"data"}
	for replaced, want := range map[string]string{
		"app":   "it uses the IPC namespace of app, which is recreated",
		"data":  "it mounts the volumes of data, which is recreated",
		"other": "",
	} {
		if got := ownerReplaced(s, map[string]bool{replaced: true}); got != want {
			t.Errorf("%s replaced: %q, want %q", replaced, got, want)
		}
	}
}
