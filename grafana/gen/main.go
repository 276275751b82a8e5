// Command gen writes the Grafana dashboards that grafana/dashboards.go
// defines to grafana/dashboards/*.json, where Grafana's file provisioning
// (grafana/provisioning) loads them.
//
//	go run ./grafana/gen [--dir DIR] [--taxonomy.file FILE]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tensionwatch/tensionwatch/grafana"
	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/pkg/events"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	app.Usage(fs, stderr, "go run ./grafana/gen [--dir DIR] [--taxonomy.file FILE]",
		"Writes the Grafana dashboards defined in grafana/dashboards.go as JSON files, one per\n"+
			"dashboard, and removes the other *.json files of the folder. The gauge bands and the\n"+
			"regions come from the taxonomy. The checked-in files are those of the built-in\n"+
			"taxonomy; `go test ./grafana/` fails when they differ from what this writes.")
	dir := fs.String("dir", "", "folder to write the dashboards to; empty means grafana/dashboards of the module around the working directory")
	txFile := fs.String("taxonomy.file", "", "taxonomy file (YAML) for the bands and regions; empty uses the one built in (pkg/events/taxonomy.yaml)")
	if err := app.ParseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "gen:", err)
		return 2
	}
	if err := generate(*dir, *txFile, stdout); err != nil {
		fmt.Fprintln(stderr, "gen:", err)
		return 1
	}
	return 0
}

func generate(dir, txFile string, stdout io.Writer) error {
	tx := events.DefaultTaxonomy()
	if txFile != "" {
		b, err := os.ReadFile(txFile)
		if err != nil {
			return fmt.Errorf("reading the taxonomy: %w", err)
		}
		if tx, err = events.ParseTaxonomy(b, txFile); err != nil {
			return err
		}
	}
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		dir = filepath.Join(root, "grafana", "dashboards")
	}
	names, err := grafana.Write(dir, tx)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(stdout, filepath.Join(dir, n))
	}
	return nil
}

// moduleRoot finds the folder of go.mod at or above the working directory,
// so that `go run ./grafana/gen` from the root and `go generate` in grafana/
// write to the same place.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the module: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("no go.mod at or above the working directory; pass --dir")
		}
		d = up
	}
}
