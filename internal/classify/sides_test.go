package classify

import (
	"strings"
	"testing"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// TestWhoActedTowardWhom: the actor and the target of relevant items, with
// their words in the evidence.
func TestWhoActedTowardWhom(t *testing.T) {
	tx := events.DefaultTaxonomy()
	rules, err := NewRules(tx)
	if err != nil {
		t.Fatal(err)
	}
	model, err := EmbeddedModel(tx)
	if err != nil {
		t.Fatal(err)
	}
	c := New(rules, model, DefaultCombine) // what the collector runs
	for _, tc := range []struct{ title, summary, actor, target string }{
		{"PLA launches drills around Taiwan", "", "prc", "taiwan"},             // "around": the target
		{"Taiwan tracks 25 Chinese aircraft near island", "", "prc", "taiwan"}, // Taiwan reports, China acts
		{"Taiwan's defence ministry says Chinese warships crossed the median line", "", "prc", "taiwan"},
		{"China sanctions Pelosi and suspends talks with US", "", "prc", "us"},        // speaking is the act
		{"China warns US over Taiwan", "", "prc", "us"},                               // a warning: the speaker acts
		{"North Korea fires ballistic missile over Japan", "", "dprk", "japan"},       // "over"
		{"North Korea fires ballistic missile into the Sea of Japan", "", "dprk", ""}, // a sea is not a side
		{"Chinese coast guard fires water cannon at Philippine vessel", "", "prc", "philippines"},
		{"Philippine vessels patrol South China Sea", "", "philippines", ""},    // nor is the South China Sea
		{"US House Speaker Nancy Pelosi arrives in Taiwan", "", "us", "taiwan"}, // a partner
		{"US destroyer sails through Taiwan Strait", "", "us", ""},
		{"PLA starts Joint Sword drills", "The drills encircle Taiwan, the PLA said.", "prc", "taiwan"}, // the target from the summary
		{"北, 동해상으로 탄도미사일 발사", "", "dprk", ""},
		{"中国海軍艦艇が台湾周辺で活動", "", "prc", "taiwan"}, // 周辺: the target
		{"共機擾台 國防部：偵獲27架次", "", "prc", "taiwan"},
	} {
		cls := c.Classify(tc.title, tc.summary)
		if !cls.Relevant {
			t.Errorf("%q: not relevant", tc.title)
			continue
		}
		if cls.Actor != tc.actor || cls.Target != tc.target {
			t.Errorf("%q: %s → %s, want %s → %s", tc.title, cls.Actor, cls.Target, tc.actor, tc.target)
		}
		var ev []string
		for _, e := range cls.Evidence {
			if strings.HasPrefix(e.Rule, "actor:") || strings.HasPrefix(e.Rule, "target:") {
				text := tc.title
				if e.Field == "summary" {
					text = tc.summary
				}
				if text[e.Start:e.End] != e.Match {
					t.Errorf("%q: evidence %+v does not point at its words", tc.title, e)
				}
				ev = append(ev, e.Rule)
			}
		}
		want := []string{"actor:" + tc.actor}
		if tc.target != "" {
			want = append(want, "target:"+tc.target)
		}
		if strings.Join(ev, ",") != strings.Join(want, ",") && strings.Join(ev, ",") != strings.Join([]string{want[len(want)-1], want[0]}, ",") {
			t.Errorf("%q: side evidence %v, want %v once each", tc.title, ev, want)
		}
	}
	// An irrelevant item names no sides.
	if cls := rules.Classify("China and the US agree on a new trade deal for soybeans", ""); cls.Actor != "" || cls.Target != "" {
		t.Errorf("irrelevant item has sides %q → %q", cls.Actor, cls.Target)
	}
}
