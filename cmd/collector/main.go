// Command collector polls RSS/Atom feeds, classifies their items into the
// event taxonomy and produces the relevant ones to Kafka.
//
//	collector run --feeds.file feeds.yaml --kafka.brokers host:9092
//	collector classify [--explain] < items.jsonl
//	collector check --feeds.file feeds.yaml
//	collector train [--cv 5] --out model.bin
//	collector probe [--feeds.file feeds.yaml] [--format table|json]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/classifycmd"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
)

const usage = `Usage: collector <command> [flags]

Commands:
  run        poll the feeds file and produce relevant events to Kafka
  classify   classify JSON lines from stdin (fields title, summary) to stdout
  check      validate a feeds file and a taxonomy file, then exit
  train      train the classifier's model on labelled sets; --cv measures it first
  probe      fetch each feed of a feeds file once and report what it serves

Run "collector <command> --help" for the command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return app.Dispatch("collector", usage, args, stdout, stderr, map[string]func([]string) error{
		"run":      func(a []string) error { return runCollector(ctx, a, stderr) },
		"classify": func(a []string) error { return runClassify(ctx, a, stdin, stdout, stderr) },
		"check":    func(a []string) error { return runCheck(a, stdout, stderr) },
		"train":    func(a []string) error { return runTrain(a, stdout, stderr) },
		"probe":    func(a []string) error { return runProbe(ctx, a, stdout, stderr) },
	})
}

func runCollector(ctx context.Context, args []string, stderr io.Writer) error {
	return app.CollectorCommand(ctx, args, stderr)
}

func runClassify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collector classify", flag.ContinueOnError)
	app.Usage(fs, stderr, "collector classify [--explain] [--rules FILE] < items.jsonl",
		"Reads JSON lines with at least \"title\" and \"summary\" from stdin and writes each line back\n"+
			"with relevant, type, region, section, also, confidence, magnitude, severe, signals, class,\n"+
			"actor, target and evidence added;\n"+
			"other fields pass through untouched. --explain prints the reasons for a person instead.")
	explain := fs.Bool("explain", false, "print a human-readable explanation of each decision")
	var tc app.TaxonomyConfig
	tc.RegisterFlags(fs)
	fs.StringVar(&tc.File, "rules", "", "the same as --taxonomy.file: a rules (taxonomy) file to try")
	if err := app.ParseFlags(fs, args); err != nil {
		return err
	}
	_, clf, err := tc.Load()
	if err != nil {
		return err
	}
	return classifycmd.Run(ctx, clf, stdin, stdout, *explain)
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collector check", flag.ContinueOnError)
	app.Usage(fs, stderr, "collector check [--feeds.file FILE] [--taxonomy.file FILE]",
		"Validates the files strictly and reports every problem with its line, then exits.\n"+
			"Warns (on stderr, without failing) about feeds on loopback, private or link-local\n"+
			"addresses, which the collector refuses unless the file says allow_private_addresses: true.")
	feedsFile := fs.String("feeds.file", "", "feeds file to check")
	var tc app.TaxonomyConfig
	tc.RegisterFlags(fs)
	if err := app.ParseFlags(fs, args); err != nil {
		return err
	}
	if *feedsFile != "" {
		l, err := feedlist.Load(*feedsFile)
		if err != nil {
			return err
		}
		for _, w := range l.PrivateAddressWarnings(*feedsFile) {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		fmt.Fprintf(stdout, "%s: %d feeds OK\n", *feedsFile, len(l.Feeds))
	}
	tx, _, err := tc.Load()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "taxonomy %s: %d types, %d regions, %d sections OK\n", tx.Version, len(tx.Types), len(tx.Regions), len(tx.Sections))
	return nil
}
