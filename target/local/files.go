package local

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
)

// Secrets and configs on an engine without Swarm, as docker compose does
// there: a file-sourced one is bind-mounted read-only at its target; one
// sourced from an environment variable or inline content is copied into
// the container after it is created, before it first starts.

// fileKind says whether a file is a secret or a config: they differ in
// their default folder.
type fileKind string

const (
	secretFile fileKind = "secret"
	configFile fileKind = "config"
)

// containerFile is a secret or config whose content is copied into the
// container.
type containerFile struct {
	Kind    fileKind
	Name    string // its key in the project
	Target  string // absolute path in the container
	Content []byte
	UID     int
	GID     int
	// OwnerSet: uid or gid was given, so the copy keeps them (else the
	// engine makes the file root's).
	OwnerSet bool
	Mode     int64
}

// fileRef is one secret or config a service uses, with its definition.
type fileRef struct {
	Kind fileKind
	Ref  types.FileReferenceConfig
	Def  types.FileObjectConfig
}

// serviceFileRefs lists the secrets then the configs a service uses.
func serviceFileRefs(p *types.Project, s types.ServiceConfig) []fileRef {
	var refs []fileRef
	for _, r := range s.Secrets {
		refs = append(refs, fileRef{Kind: secretFile, Ref: types.FileReferenceConfig(r), Def: types.FileObjectConfig(p.Secrets[r.Source])})
	}
	for _, r := range s.Configs {
		refs = append(refs, fileRef{Kind: configFile, Ref: types.FileReferenceConfig(r), Def: types.FileObjectConfig(p.Configs[r.Source])})
	}
	return refs
}

// target is where the file appears in the container: secrets under
// /run/secrets, configs under /, unless the target is absolute.
func (f fileRef) target() string {
	t := f.Ref.Target
	if t == "" {
		t = f.Ref.Source
	}
	if path.IsAbs(t) {
		return path.Clean(t)
	}
	if f.Kind == secretFile {
		return path.Join("/run/secrets", t)
	}
	return path.Join("/", t)
}

// copied says whether the file's content is copied rather than mounted.
func (f fileRef) copied() bool { return f.Def.File == "" }

// serviceFiles translates a service's secrets and configs into read-only
// bind mounts and files to copy. Validation (validateFiles) has checked
// that each can be had.
func serviceFiles(p *types.Project, s types.ServiceConfig) (mounts []mount.Mount, copies []containerFile, err error) {
	for _, f := range serviceFileRefs(p, s) {
		if !f.copied() {
			mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: f.Def.File, Target: f.target(), ReadOnly: true})
			continue
		}
		c := containerFile{Kind: f.Kind, Name: f.Ref.Source, Target: f.target(), Content: []byte(f.Def.Content), Mode: 0o444}
		if f.Ref.Mode != nil {
			c.Mode = int64(*f.Ref.Mode)
		}
		if c.UID, err = fileOwner(f.Ref.UID); err != nil {
			return nil, nil, fmt.Errorf("service %q: %s %s: uid: %w", s.Name, f.Kind, f.Ref.Source, err)
		}
		if c.GID, err = fileOwner(f.Ref.GID); err != nil {
			return nil, nil, fmt.Errorf("service %q: %s %s: gid: %w", s.Name, f.Kind, f.Ref.Source, err)
		}
		c.OwnerSet = f.Ref.UID != "" || f.Ref.GID != ""
		copies = append(copies, c)
	}
	return mounts, copies, nil
}

func fileOwner(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a numeric id", v)
	}
	return n, nil
}

// filesDigest sums what the service's config hash does not cover of its
// secrets and configs: where a mounted file comes from and what a copied
// one holds. A change to either recreates the container, since a copy is
// made only when it is created (docker compose copies at every start, but
// never recreates for a changed content).
func filesDigest(p *types.Project, s types.ServiceConfig) string {
	var parts []string
	for _, f := range serviceFileRefs(p, s) {
		if f.copied() {
			sum := sha256.Sum256([]byte(f.Def.Content))
			parts = append(parts, fmt.Sprintf("%s %s content %s", f.Kind, f.Ref.Source, hex.EncodeToString(sum[:])))
		} else {
			parts = append(parts, fmt.Sprintf("%s %s file %s", f.Kind, f.Ref.Source, f.Def.File))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n")
}

// validateFiles checks, for one service, that every secret and config can
// be had the way opdeploy provides it, and warns about settings it cannot
// apply.
func validateFiles(p *types.Project, s types.ServiceConfig) (warnings []string, err error) {
	volumeTargets := map[string]bool{}
	for _, v := range s.Volumes {
		volumeTargets[v.Target] = true
	}
	seen := map[string]string{}
	for _, f := range serviceFileRefs(p, s) {
		where := fmt.Sprintf("service %q: %s %q", s.Name, f.Kind, f.Ref.Source)
		d := f.Def
		switch {
		case bool(d.External):
			return warnings, fmt.Errorf("%s is external: external %ss need Swarm, which opdeploy does not drive", where, f.Kind)
		case d.Driver != "" || d.TemplateDriver != "":
			return warnings, fmt.Errorf("%s: driver and template_driver are not supported (docker compose rejects them too)", where)
		case d.File != "" && (f.Ref.UID != "" || f.Ref.GID != "" || f.Ref.Mode != nil):
			warnings = append(warnings, fmt.Sprintf("%s: uid, gid and mode are ignored for a file-sourced %s: it is bind-mounted as it is on the host (docker compose ignores them too)", where, f.Kind))
		}
		if f.copied() && s.ReadOnly {
			return warnings, fmt.Errorf("%s: its content is copied into the container, which read_only forbids: use a file-sourced %s", where, f.Kind)
		}
		if len(d.Labels) > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: labels are ignored: they label Swarm %s objects", where, f.Kind))
		}
		target := f.target()
		if volumeTargets[target] {
			return warnings, fmt.Errorf("%s: target %s is also the target of a volume", where, target)
		}
		if other, dup := seen[target]; dup {
			return warnings, fmt.Errorf("%s: target %s is also the target of %s", where, target, other)
		}
		seen[target] = fmt.Sprintf("%s %q", f.Kind, f.Ref.Source)
		if _, err := fileOwner(f.Ref.UID); err != nil {
			return warnings, fmt.Errorf("%s: uid: %w", where, err)
		}
		if _, err := fileOwner(f.Ref.GID); err != nil {
			return warnings, fmt.Errorf("%s: gid: %w", where, err)
		}
	}
	return warnings, nil
}

// missingFiles lists what the host lacks for a service's secrets and
// configs: a source file, or the environment variable a value comes from
// (empty counts as missing).
// It is not a load error, so that down, status and logs work without
// them; up refuses to start (preflight), and validate warns.
func missingFiles(p *types.Project, s types.ServiceConfig) []string {
	var missing []string
	for _, f := range serviceFileRefs(p, s) {
		where := fmt.Sprintf("service %q: %s %q", s.Name, f.Kind, f.Ref.Source)
		switch d := f.Def; {
		case bool(d.External) || d.Driver != "" || d.TemplateDriver != "":
		case d.File != "":
			if _, err := os.Stat(d.File); err != nil {
				missing = append(missing, fmt.Sprintf("%s: file %s: %v", where, d.File, unwrapPathError(err)))
			}
		case d.Environment != "":
			// docker compose copies nothing for an empty value: the file
			// would be missing in the container. Say so before up.
			if p.Environment[d.Environment] == "" {
				missing = append(missing, fmt.Sprintf("%s: environment variable %s is not set, or empty", where, d.Environment))
			}
		}
	}
	return missing
}

// unwrapPathError drops the path an *os.PathError repeats.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
