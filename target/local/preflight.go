package local

import (
	"errors"
	"fmt"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// preflight reports what evaluation found ignorable and rejects, before
// anything changes, what the engine's API version cannot do and what the
// host lacks (secret files, environment variables). Everything that needs
// neither was checked when the project was loaded (validate.go).
func (d *Deployment) preflight(services []types.ServiceConfig, apiVersion string, progress target.Progress) error {
	warn := func(s types.ServiceConfig, text string) {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.ServiceOf(s.Name), Service: s.Name, Action: target.ActionWarning, Detail: text})
	}
	for _, s := range services {
		if missing := missingFiles(d.project, s); len(missing) > 0 {
			return errors.New(missing[0])
		}
	}
	for _, s := range services {
		for _, w := range d.warnings[s.Name] {
			warn(s, w)
		}
		if err := checkEngineSupport(d.project, s, apiVersion); err != nil {
			return err
		}
		if apiBefore(apiVersion, "1.44") && s.HealthCheck != nil && s.HealthCheck.StartInterval != nil {
			warn(s, fmt.Sprintf("service %q: healthcheck.start_interval is ignored: the engine speaks API %s and it needs 1.44", s.Name, apiVersion))
		}
	}
	return nil
}
