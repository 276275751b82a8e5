package app

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string
	Format string
}

// RegisterFlags registers --log.level and --log.format.
func (c *LogConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Level, "log.level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.Format, "log.format", "logfmt", "log format: logfmt (key=value text) or json")
}

// Logger builds the structured logger the flags describe.
func (c LogConfig) Logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.Level)); err != nil {
		return nil, fmt.Errorf("--log.level: %q is not one of debug, info, warn, error", c.Level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(c.Format) {
	case "logfmt", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log.format: %q is not logfmt or json", c.Format)
}
