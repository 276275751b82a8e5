package classify

import (
	"regexp"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// A fifteen-line regular-expression classifier, the baseline the rules are
// measured against (quality in TestDevSetEvaluation, speed in
// BenchmarkClassifyBaseline).
var (
	baseAsia  = regexp.MustCompile(`(?i)\b(china|chinese|beijing|taiwan|japan|korea|pyongyang|philippine|senkaku|south china sea)`)
	baseSec   = regexp.MustCompile(`(?i)\b(military|drills?|missiles?|warplanes?|warships?|coast guard|navy|sanctions?|arms|defen[cs]e|talks|troops)\b`)
	baseTypes = []struct {
		ty string
		re *regexp.Regexp
	}{
		{"weapons_test", regexp.MustCompile(`(?i)missile|satellite|icbm`)},
		{"military_exercise", regexp.MustCompile(`(?i)drill|exercise`)},
		{"air_incursion", regexp.MustCompile(`(?i)warplane|fighter jet|air defen[cs]e zone`)},
		{"maritime_patrol", regexp.MustCompile(`(?i)coast ?guard|water cannon`)},
		{"strait_transit", regexp.MustCompile(`(?i)sail(ed|s)? through|transit`)},
		{"arms_transfer", regexp.MustCompile(`(?i)arms (sale|deal)|military aid`)},
		{"sanction", regexp.MustCompile(`(?i)sanction`)},
		{"diplomatic_engagement", regexp.MustCompile(`(?i)talks|meet|summit|hotline`)},
	}
	baseRegions = []struct {
		region string
		re     *regexp.Regexp
	}{
		{"korean_peninsula", regexp.MustCompile(`(?i)korea`)}, {"taiwan_strait", regexp.MustCompile(`(?i)taiwan`)},
		{"east_china_sea", regexp.MustCompile(`(?i)senkaku|east china sea`)}, {"south_china_sea", regexp.MustCompile(`(?i)south china sea|philippine`)},
	}
)

func baselineClassify(title, summary string) events.Classification {
	text := title + " " + summary
	c := events.Classification{Also: []string{}, Evidence: []events.Evidence{}}
	if !baseAsia.MatchString(text) || !baseSec.MatchString(text) {
		return c
	}
	c.Relevant, c.Type, c.Region = true, "coercive_statement", "east_asia"
	for _, t := range baseTypes {
		if t.re.MatchString(text) {
			c.Type = t.ty
			break
		}
	}
	for _, r := range baseRegions {
		if r.re.MatchString(text) {
			c.Region = r.region
			break
		}
	}
	return c
}
