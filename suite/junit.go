package suite

import (
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// JUnit XML, as CI systems read it (Jenkins, GitLab, GitHub actions that
// publish test reports): one <testsuite> per folder of scripts, one
// <testcase> per script, named after the file without .txtar, its
// classname the folder. A failure holds the script's log; its message is
// the log's first FAIL line (file:line: what differed).

type junitReport struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes the results as JUnit XML. Text that XML cannot hold
// (control characters a container printed) becomes U+FFFD.
func WriteJUnit(w io.Writer, results []Result, elapsed time.Duration) error {
	rep := junitReport{Name: "opdeploy test", Time: seconds(elapsed)}
	index := map[string]int{}
	var spans []struct{ start, end time.Time }
	for _, r := range results {
		dir := path.Dir(r.Name)
		i, ok := index[dir]
		if !ok {
			i = len(rep.Suites)
			index[dir] = i
			rep.Suites = append(rep.Suites, junitSuite{Name: dir})
			spans = append(spans, struct{ start, end time.Time }{r.Start, r.Start})
		}
		s := &rep.Suites[i]
		c := junitCase{
			Name:      strings.TrimSuffix(path.Base(r.Name), ".txtar"),
			Classname: dir,
			File:      r.Name,
			Time:      seconds(r.Duration),
		}
		switch r.Status {
		case Failed:
			c.Failure = &junitFailure{Message: failureMessage(r.Log), Type: "failure", Text: r.Log + r.Kept}
			s.Failures++
		case Skipped:
			c.Skipped = &junitSkipped{Message: r.SkipReason}
			s.Skipped++
		default:
			c.SystemOut = r.Log // only with -v
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
		if r.Start.Before(spans[i].start) {
			spans[i].start = r.Start
		}
		if end := r.Start.Add(r.Duration); end.After(spans[i].end) {
			spans[i].end = end
		}
	}
	for i := range rep.Suites {
		s := &rep.Suites[i]
		s.Time = seconds(spans[i].end.Sub(spans[i].start))
		s.Timestamp = spans[i].start.UTC().Format("2006-01-02T15:04:05")
		rep.Tests += s.Tests
		rep.Failures += s.Failures
		rep.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// failureMessage is the first FAIL line of a log, without the prefix:
// "script.txtar:12: no match for `ok` found in stdout".
func failureMessage(log string) string {
	for _, line := range strings.Split(log, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "FAIL: "); ok {
			return rest
		}
	}
	return "failed"
}
