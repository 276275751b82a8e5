package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tensionwatch/tensionwatch/internal/app"
	"github.com/tensionwatch/tensionwatch/internal/classify"
)

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("collector train", flag.ContinueOnError)
	app.Usage(fs, stderr, "collector train [--sets FILE] [--data DIR] [--cv K [--by-set] [--curve]] [--out model.bin] [flags]",
		"Trains the classifier's model (hashed word uni- and bigrams and character n-grams,\n"+
			"averaged embeddings, linear heads for relevance, type and region) on the labelled sets\n"+
			"of --sets, deterministically for a --seed. With --cv K it first runs grouped K-fold\n"+
			"cross-validation (near-duplicate items in one fold) and prints rules, model and\n"+
			"combined figures per language, and with --curve the same for models trained on a\n"+
			"share of each fold's training groups (would labelling more help?); with --out it\n"+
			"writes the model trained on every set.\n"+
			"The built-in model is internal/classify/model/model.bin, made by\n"+
			"  collector train --cv 5 --out internal/classify/model/model.bin")
	sets := fs.String("sets", filepath.Join("testdata", "classifier-sets.yaml"), "the labelled sets (YAML)")
	data := fs.String("data", filepath.Join("..", "shared", "data"), "the directory the sets' paths are relative to")
	repo := fs.String("repo", ".", `the directory the sets' "./" paths are relative to`)
	out := fs.String("out", "", "write the model trained on every set here")
	cv := fs.Int("cv", 0, "cross-validate with this many folds first (0: no)")
	bySet := fs.Bool("by-set", false, "with --cv, also print the figures of each labelled set")
	curve := fs.Bool("curve", false, "with --cv, also cross-validate models trained on a quarter, a half and three quarters\nof each fold's training groups: whether labelling more would still help")
	cfg := classify.DefaultTrainConfig
	fs.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "passes over the data")
	fs.IntVar(&cfg.Dim, "dim", cfg.Dim, "embedding dimension")
	buckets := fs.Uint("buckets", uint(cfg.Buckets), "feature hash buckets")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "initial learning rate")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed (initial weights, example order)")
	fs.Float64Var(&cfg.PositiveWeight, "positive-weight", cfg.PositiveWeight, "weight of relevant examples in the relevance loss")
	version := fs.String("version", "", "the model's version (default: the taxonomy's version and the date)")
	var tc app.TaxonomyConfig
	fs.StringVar(&tc.File, "taxonomy.file", "", "taxonomy and rules file (YAML); empty uses the one built in")
	if err := app.ParseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" && *cv == 0 {
		return app.Usagef("give --out, --cv or both")
	}
	if (*curve || *bySet) && *cv == 0 {
		return app.Usagef("--curve and --by-set need --cv")
	}
	cfg.Buckets = uint32(*buckets)
	tc.Model = "none"
	tx, clf, err := tc.Load()
	if err != nil {
		return err
	}
	list, err := classify.ReadSets(*sets)
	if err != nil {
		return err
	}
	examples, err := classify.LoadExamples(list, *data, *repo)
	if err != nil {
		return err
	}
	relevant := 0
	for _, e := range examples {
		if e.Relevant {
			relevant++
		}
	}
	fmt.Fprintf(stdout, "%d labelled items (%d relevant) from %d sets, languages %v\n", len(examples), relevant, len(list), classify.Languages(examples))
	if *cv > 0 {
		start := time.Now()
		res, err := classify.CrossValidate(tx, clf.Rules(), examples, *cv, cfg, classify.DefaultCombine)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n%d-fold cross-validation over %d groups of near-duplicates (%s):\n\n", *cv, res.Groups, time.Since(start).Round(time.Millisecond))
		res.WriteTable(stdout)
		if *bySet {
			fmt.Fprintf(stdout, "\nThe same, by labelled set:\n\n")
			res.WriteSetTable(stdout)
		}
		if *curve {
			start := time.Now()
			pts, err := classify.LearningCurve(tx, clf.Rules(), examples, *cv, []float64{0.25, 0.5, 0.75}, cfg, classify.DefaultCombine)
			if err != nil {
				return err
			}
			pts = append(pts, classify.CurvePoint{Share: 1, CVResult: res})
			fmt.Fprintf(stdout, "\nLearning curve, the same folds (%s): combined, and in parentheses the model alone\n\n", time.Since(start).Round(time.Millisecond))
			classify.WriteCurve(stdout, pts)
		}
	}
	if *out == "" {
		return nil
	}
	start := time.Now()
	m, err := classify.Train(tx, examples, cfg)
	if err != nil {
		return err
	}
	m.Meta.Version = *version
	if m.Meta.Version == "" {
		m.Meta.Version = tx.Version + "+" + time.Now().UTC().Format("20060102")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	n, err := m.WriteTo(f)
	if err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nmodel %s: %d examples, trained in %s, %.1f MB written to %s\n", m.Meta.Version, len(examples),
		time.Since(start).Round(time.Millisecond), float64(n)/(1<<20), *out)
	return nil
}
