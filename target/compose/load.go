// Package compose loads the compose model a subject declares, with
// compose-go: files, services built in Starlark, interpolation, profiles.
// Every target that runs a compose model starts from it. It never
// contacts an engine.
package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"

	"github.com/opdeploy/opdeploy/target"
)

// placeholderProject names a project whose name is not decided yet (the
// subject has not been declared). Validation does not depend on the name.
const placeholderProject = "opdeploy-pending"

// Load loads and validates the compose project a spec describes.
// It reads files but never contacts Docker. Errors name the compose file
// and, where it can be found, the service at fault.
func Load(ctx context.Context, spec target.ComposeSpec) (*types.Project, error) {
	name := spec.Project
	if name == "" {
		name = placeholderProject
	}
	if err := target.ValidateName("project", name); err != nil {
		return nil, err
	}
	env, err := interpolationEnv(spec)
	if err != nil {
		return nil, err
	}
	details := types.ConfigDetails{WorkingDir: spec.Dir, Environment: env}
	for _, path := range spec.ComposeFiles {
		content, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("compose file %s does not exist", path)
			}
			return nil, fmt.Errorf("compose file %s: %w", path, err)
		}
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: path, Content: content})
	}
	if overlay := starlarkOverlay(spec); overlay != nil {
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{
			Filename: spec.ServicesFile,
			Config:   overlay,
		})
	}
	if len(details.ConfigFiles) == 0 {
		return nil, errors.New("no compose file and no services")
	}
	opts := func(o *loader.Options) {
		o.SetProjectName(name, true)
		o.Profiles = spec.Profiles
		o.ResolvePaths = true
	}
	project, err := loader.LoadWithContext(ctx, details, opts)
	if err != nil {
		return nil, describeLoadError(ctx, details, opts, err)
	}
	if len(project.Services) == 0 && len(project.DisabledServices) == 0 {
		return nil, fmt.Errorf("%s: the project defines no services", sourceList(details))
	}
	project.ComposeFiles = append(project.ComposeFiles, spec.ComposeFiles...)
	return project, nil
}

// interpolationEnv builds the variables for ${VAR} interpolation: dotenv
// files, then the process environment, then the subject's own env, each
// overriding the one before (docker compose lets the shell override .env).
func interpolationEnv(spec target.ComposeSpec) (map[string]string, error) {
	files := spec.EnvFiles
	if len(files) == 0 {
		dflt := filepath.Join(spec.Dir, ".env")
		if st, err := os.Stat(dflt); err == nil && !st.IsDir() {
			files = []string{dflt}
		}
	}
	osEnv := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			osEnv[k] = v
		}
	}
	env := map[string]string{}
	if len(files) > 0 {
		fromFiles, err := dotenv.GetEnvFromFile(osEnv, files)
		if err != nil {
			return nil, fmt.Errorf("env_files: %w", err)
		}
		for k, v := range fromFiles {
			env[k] = v
		}
	}
	for k, v := range osEnv {
		env[k] = v
	}
	for k, v := range spec.Env {
		env[k] = v
	}
	return env, nil
}

func sourceList(details types.ConfigDetails) string {
	names := make([]string, len(details.ConfigFiles))
	for i, f := range details.ConfigFiles {
		names[i] = f.Filename
	}
	return strings.Join(names, ", ")
}

// starlarkOverlay is the compose model a subject built in Starlark, merged
// after the compose files as an override file would be.
func starlarkOverlay(spec target.ComposeSpec) map[string]any {
	overlay := map[string]any{}
	if spec.Services != nil {
		overlay["services"] = spec.Services
	}
	if spec.Volumes != nil {
		overlay["volumes"] = spec.Volumes
	}
	if spec.Networks != nil {
		overlay["networks"] = spec.Networks
	}
	if len(overlay) == 0 {
		return nil
	}
	return overlay
}

var (
	falseSchemaRE   = regexp.MustCompile(`services\.([^.\s]+)\.(\S+) false schema`)
	decodeFieldRE   = regexp.MustCompile(`'services\[([^\]]+)\]\.([^']+)' `)
	mentionsService = regexp.MustCompile(`services\.[^.\s]+|service "[^"]+"|services\[[^\]]+\]`)
)

// describeLoadError turns compose-go's error into one that names the
// compose file(s) and the service at fault. compose-go names the file for
// schema errors but not for errors found while decoding the merged model
// ("Invalid containerPort: abc"); for those the service is found by loading
// each service of the merged model on its own.
func describeLoadError(ctx context.Context, details types.ConfigDetails, opts func(*loader.Options), err error) error {
	msg := err.Error()
	msg = falseSchemaRE.ReplaceAllString(msg, `service "$1": unknown key "$2"`)
	msg = strings.Replace(msg, "decoding failed due to the following error(s):\n\n", "", 1)
	msg = decodeFieldRE.ReplaceAllString(msg, `service "$1": $2: `)
	if !mentionsService.MatchString(msg) {
		if svc := serviceAtFault(ctx, details, opts); svc != "" {
			msg = fmt.Sprintf("service %q: %s", svc, msg)
		}
	}
	if !strings.Contains(msg, string(filepath.Separator)) && !mentionsAnyFile(msg, details) {
		msg = sourceList(details) + ": " + msg
	}
	return errors.New(msg)
}

func mentionsAnyFile(msg string, details types.ConfigDetails) bool {
	for _, f := range details.ConfigFiles {
		if strings.Contains(msg, f.Filename) {
			return true
		}
	}
	return false
}

// serviceAtFault finds the service whose definition alone fails to load.
// Each document is split by service (YAML is only split here; compose-go
// still interprets every fragment) and each service's fragments are loaded
// on their own, in the original merge order.
func serviceAtFault(ctx context.Context, details types.ConfigDetails, opts func(*loader.Options)) string {
	docs := make([]map[string]any, len(details.ConfigFiles))
	names := map[string]bool{}
	for i, f := range details.ConfigFiles {
		doc := f.Config
		if doc == nil {
			if err := yaml.Unmarshal(f.Content, &doc); err != nil {
				return ""
			}
		}
		docs[i] = doc
		services, _ := doc["services"].(map[string]any)
		for name := range services {
			names[name] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for name := range names {
		sorted = append(sorted, name)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		one := types.ConfigDetails{WorkingDir: details.WorkingDir, Environment: details.Environment}
		for i, doc := range docs {
			services, _ := doc["services"].(map[string]any)
			if def, ok := services[name]; ok {
				one.ConfigFiles = append(one.ConfigFiles, types.ConfigFile{
					Filename: details.ConfigFiles[i].Filename,
					Config:   map[string]any{"services": map[string]any{name: def}},
				})
			}
		}
		_, err := loader.LoadWithContext(ctx, one, opts, func(o *loader.Options) {
			o.SkipConsistencyCheck = true
			o.SkipExtends = true
			o.Profiles = []string{"*"}
		})
		if err != nil {
			return name
		}
	}
	return ""
}
