package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tensionwatch/tensionwatch/deploy"
	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/feedlist"
	"github.com/tensionwatch/tensionwatch/internal/fetcher"
	"github.com/tensionwatch/tensionwatch/internal/probe"
)

// builtInFeeds names the default list in messages.
const builtInFeeds = "deploy/feeds.yaml (built in)"

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collector probe", flag.ContinueOnError)
	app.Usage(fs, stderr, "collector probe [--feeds.file FILE] [--only ID,...] [--format table|json] [--fetch.* flags]",
		"Fetches every feed of the feeds file once, as the collector would (its User-Agent, the\n"+
			"feed's headers, allow_private_addresses), and prints a row per feed to stdout: the HTTP\n"+
			"status, the items, the age of the newest, the language the items look written in, the\n"+
			"share the classifier calls relevant, and the problems, each with what to do. Progress\n"+
			"goes to stderr. Exits 1 when a feed fails (no 2xx or 304 answer, not a feed, no items),\n"+
			"0 when none does; a stale feed or a language mismatch is reported but does not fail.\n"+
			"Without --feeds.file it probes the built-in default list.")
	feedsFile := fs.String("feeds.file", "", "feeds file to probe; empty probes the built-in default list ("+builtInFeeds+")")
	only := fs.String("only", "", "probe only these feeds: comma-separated ids")
	format := fs.String("format", "table", "output: table (aligned text) or json")
	staleAfter := fs.Duration("stale-after", probe.DefaultStaleAfter, "report a feed whose newest item is older than this")
	quiet := fs.Bool("quiet", false, "print no progress on stderr")
	var fc app.FetchConfig
	fc.RegisterRequestFlags(fs)
	var tc app.TaxonomyConfig
	tc.RegisterFlags(fs)
	if err := app.ParseFlags(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return app.Usagef("--format %q: want table or json", *format)
	}
	if *staleAfter <= 0 {
		return app.Usagef("--stale-after %s: want a positive duration such as 720h", *staleAfter)
	}
	var (
		l    *feedlist.List
		name = *feedsFile
		err  error
	)
	if name == "" {
		name = builtInFeeds
		l, err = feedlist.Parse(deploy.DefaultFeeds, name)
	} else {
		l, err = feedlist.Load(name)
	}
	if err != nil {
		return err
	}
	feeds := l.Feeds
	if *only != "" {
		if feeds, err = pick(l.Feeds, *only, name); err != nil {
			return err
		}
	}
	_, clf, err := tc.Load()
	if err != nil {
		return err
	}
	cfg := fc.Fetcher()
	cfg.AllowPrivate = l.AllowPrivateAddresses
	o := probe.Options{Fetcher: fetcher.New(cfg), Classifier: clf, StaleAfter: *staleAfter}
	if !*quiet {
		o.Progress = stderr
		fmt.Fprintf(stderr, "probe: fetching %d feeds of %s\n", len(feeds), name)
	}
	results := probe.Run(ctx, feeds, o)
	if ctx.Err() != nil {
		return fmt.Errorf("probe interrupted: %w", ctx.Err())
	}
	if *format == "json" {
		err = probe.WriteJSON(stdout, results)
	} else {
		err = probe.WriteTable(stdout, results)
	}
	if err != nil {
		return fmt.Errorf("writing the results: %w", err)
	}
	if failed := probe.Failed(results); len(failed) > 0 {
		return fmt.Errorf("%d of %d feeds failed: %s", len(failed), len(results), strings.Join(failed, ", "))
	}
	return nil
}

// pick returns the feeds named in ids (comma-separated), in the file's
// order; an id the file does not hold is a usage error.
func pick(feeds []feedlist.Feed, ids, name string) ([]feedlist.Feed, error) {
	want := map[string]bool{}
	for _, id := range strings.Split(ids, ",") {
		if id = strings.TrimSpace(id); id != "" {
			want[id] = true
		}
	}
	var out []feedlist.Feed
	for _, f := range feeds {
		if want[f.ID] {
			out = append(out, f)
			delete(want, f.ID)
		}
	}
	if len(want) > 0 {
		var missing []string
		for id := range want {
			missing = append(missing, id)
		}
		sort.Strings(missing)
		return nil, app.Usagef("--only: %s has no feed %s", name, strings.Join(missing, ", "))
	}
	if len(out) == 0 {
		return nil, app.Usagef("--only %q names no feed", ids)
	}
	return out, nil
}
