package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPrintChecksMakesControlsVisible(t *testing.T) {
	docs := []checkDoc{
		{Name: "web-ok", Kind: "http", Service: "web", OK: true, LatencyMS: 3, Detail: "GET http://127.0.0.1:1/: 200"},
		{Name: "web-body", Kind: "http", Service: "web", LatencyMS: 4, Detail: "GET http://127.0.0.1:1/: status 500, want 200: \x1b]0;pwned\x07\tcol\u009b"},
	}
	var table strings.Builder
	if err := printChecks(&table, docs, false); err != nil {
		t.Fatal(err)
	}
	want := `CHECK     SERVICE  OK    LATENCY  DETAIL
web-ok    web      ok    3ms      GET http://127.0.0.1:1/: 200
web-body  web      FAIL  4ms      GET http://127.0.0.1:1/: status 500, want 200: ^[]0;pwned^G^Icol\u009b
`
	if table.String() != want {
		t.Errorf("table\n%s\nwant\n%s", table.String(), want)
	}

	var js strings.Builder
	if err := printChecks(&js, docs, true); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(js.String(), "\x1b\x07\u009b") {
		t.Errorf("raw control characters in JSON: %q", js.String())
	}
	var back []checkDoc
	if err := json.Unmarshal([]byte(js.String()), &back); err != nil || len(back) != 2 || back[1].Detail != docs[1].Detail {
		t.Errorf("JSON decodes to %+v (%v), want the exact details", back, err)
	}
}
