package classify

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/tensionwatch/tensionwatch/pkg/events"
)

// Model is a supervised text classifier in the manner of fastText: for each
// of its three heads (relevance, type, region), the embeddings of an item's
// hashed features (see features.go) are averaged into one vector, which a
// linear layer reads (logistic for relevance, softmax over the taxonomy's
// types or regions). Each head has its own embeddings: the type and region
// heads learn from the relevant examples only, and do not have to share
// their dimensions with the much larger question of relevance. It is
// trained by `collector train` and embedded in the binaries; its methods
// are safe for concurrent use.
type Model struct {
	Meta ModelMeta
	rel  head // 1 output: the log-odds of relevance
	typ  head // len(Meta.Types) outputs
	reg  head // len(Meta.Regions) outputs
	pool sync.Pool
}

// head is one linear classifier over averaged feature embeddings. It
// trains on float32 embeddings (emb) and serves int8 ones (q, times scale):
// a quarter of the memory, so that the rows an item reads stay in the
// processor's caches, and of the model file.
type head struct {
	k, dim int
	emb    []float32 // Buckets × dim, while training
	q      []int8    // Buckets × dim, quantized
	qb     []byte    // q again, each value + 128, for embedSWAR
	scale  float32
	out    []float32 // k × (dim + 1), bias last
}

// maxDim bounds a head's dimension (its integer accumulator lives on the
// stack).
const maxDim = 128

// quantize replaces the float32 embeddings by int8 ones.
func (hd *head) quantize() {
	var mx float32
	for _, v := range hd.emb {
		mx = max(mx, v, -v)
	}
	hd.scale = mx / 127
	if hd.scale == 0 {
		hd.scale = 1
	}
	hd.q = make([]int8, len(hd.emb))
	for i, v := range hd.emb {
		hd.q[i] = int8(math.Round(float64(v / hd.scale)))
	}
	hd.emb = nil
	hd.biased()
}

// biased fills qb from q.
func (hd *head) biased() {
	hd.qb = make([]byte, len(hd.q))
	for i, v := range hd.q {
		hd.qb[i] = byte(v) ^ 0x80
	}
}

// row returns the embedding of a bucket, dequantized into buf.
func (hd *head) row(bucket uint32, buf []float32) []float32 {
	d := hd.dim
	if hd.q == nil {
		return hd.emb[int(bucket)*d : int(bucket)*d+d]
	}
	for i, v := range hd.q[int(bucket)*d : int(bucket)*d+d] {
		buf[i] = float32(v) * hd.scale
	}
	return buf[:d]
}

// ModelMeta describes a model: what it was trained for and how.
type ModelMeta struct {
	// Version names this model; TaxonomyVersion is the taxonomy it was
	// trained for, whose Types and Regions are its heads' classes.
	Version         string   `json:"version"`
	TaxonomyVersion string   `json:"taxonomy_version"`
	Types           []string `json:"types"`
	Regions         []string `json:"regions"`
	Buckets         uint32   `json:"buckets"`
	Dim             int      `json:"dim"`      // of the relevance head
	HeadDim         int      `json:"head_dim"` // of the type and region heads
	// Training parameters and data.
	Epochs     int     `json:"epochs"`
	Rate       float64 `json:"rate"`
	HeadEpochs int     `json:"head_epochs"`
	HeadRate   float64 `json:"head_rate"`
	Seed       uint64  `json:"seed"`
	Examples   int     `json:"examples"`
	Relevant   int     `json:"relevant"`
	// RelevantByScript counts the relevant examples by the script they are
	// written in (Script): the model vetoes the rules only in a script it
	// has seen enough of (vetoMinRelevant).
	RelevantByScript map[string]int `json:"relevant_by_script,omitempty"`
	Sets             []string       `json:"sets"`
}

// TrainConfig holds the training parameters.
type TrainConfig struct {
	Buckets uint32
	Dim     int // relevance
	HeadDim int // type and region
	Epochs  int
	Rate    float64 // initial learning rate, decaying linearly to 0
	// HeadEpochs and HeadRate are the type and region heads' own: they
	// learn from the few relevant examples and need more passes.
	HeadEpochs int
	HeadRate   float64
	Seed       uint64
	// PositiveWeight weighs relevant examples in the relevance loss
	// (relevant items are few in a real feed).
	PositiveWeight float64
}

// DefaultTrainConfig is what `collector train` uses unless told otherwise.
var DefaultTrainConfig = TrainConfig{Buckets: 1 << 16, Dim: 8, HeadDim: 16, Epochs: 20, Rate: 0.4, HeadEpochs: 60, HeadRate: 1,
	Seed: 1, PositiveWeight: 2}

// Example is one labelled item.
type Example struct {
	Title, Summary string
	Lang, URL, Set string
	Relevant       bool
	Type, Region   string
}

// Prediction is what the model says of an item.
type Prediction struct {
	Relevant float64   // probability
	Types    []float64 // probability of each of Meta.Types, given relevant
	Regions  []float64 // of each of Meta.Regions
}

type modelScratch struct {
	f      featurizer
	h      []float32
	ht, hr []float32
	outT   []float64
	outR   []float64
	p      float64 // the last probability computed
}

func (m *Model) scratch() *modelScratch {
	if s, ok := m.pool.Get().(*modelScratch); ok {
		return s
	}
	return &modelScratch{f: featurizer{buckets: m.Meta.Buckets},
		h: make([]float32, m.rel.dim), ht: make([]float32, m.typ.dim), hr: make([]float32, m.reg.dim)}
}

// featureWeight is how much a feature counts in the average: title
// features twice.
func featureWeight(f feature) float32 {
	if f.field == 0 {
		return 2
	}
	return 1
}

// embed averages the features' embeddings into h and returns the total
// weight.
func (hd *head) embed(feats []feature, h []float32) float32 {
	clear(h)
	var total float32
	d := hd.dim
	if hd.qb != nil && (d == 8 || d == 16) {
		return hd.embedSWAR(feats, h)
	}
	if hd.q != nil { // integer sums, one conversion at the end
		var acc [maxDim]int32
		for _, f := range feats {
			w := int32(featureWeight(f))
			total += float32(w)
			row := hd.q[int(f.bucket)*d : int(f.bucket)*d+d]
			for i, v := range row {
				acc[i] += w * int32(v)
			}
		}
		if total > 0 {
			inv := hd.scale / total
			for i := range h {
				h[i] = float32(acc[i]) * inv
			}
		}
		return total
	}
	for _, f := range feats {
		w := featureWeight(f)
		total += w
		row := hd.emb[int(f.bucket)*d : int(f.bucket)*d+d]
		for i, v := range row {
			h[i] += w * v
		}
	}
	if total > 0 {
		inv := 1 / total
		for i := range h {
			h[i] *= inv
		}
	}
	return total
}

// embedSWAR is embed for heads of 8 or 16 dimensions: a row's 8 bytes are
// read as one word and added four lanes at a time (the even and the odd
// bytes, each in 16-bit lanes of a uint64). The bytes are the values +128,
// so lanes only grow; they are emptied into the totals before they could
// overflow (255 × 256 < 65,536), and 128 × the weight is taken off at the
// end. The sums are the integer sums of embed, exactly.
func (hd *head) embedSWAR(feats []feature, h []float32) float32 {
	const lanes = 0x00FF00FF00FF00FF
	words := hd.dim / 8
	var even, odd [2]uint64
	var acc [16]int64
	budget, total := 0, 0
	flush := func() {
		for k := range words {
			for l := range 4 {
				acc[8*k+2*l] += int64(even[k] >> (16 * l) & 0xFFFF)
				acc[8*k+2*l+1] += int64(odd[k] >> (16 * l) & 0xFFFF)
			}
			even[k], odd[k] = 0, 0
		}
		budget = 0
	}
	for _, f := range feats {
		w := int(featureWeight(f))
		if budget+w > 256 {
			flush()
		}
		budget += w
		total += w
		off := int(f.bucket) * hd.dim
		for k := range words {
			x := binary.LittleEndian.Uint64(hd.qb[off+8*k:])
			even[k] += (x & lanes) * uint64(w) // a lane times w stays in its lane
			odd[k] += (x >> 8 & lanes) * uint64(w)
		}
	}
	flush()
	clear(h)
	if total > 0 {
		inv := hd.scale / float32(total)
		for i := range h {
			h[i] = float32(acc[i]-128*int64(total)) * inv
		}
	}
	return float32(total)
}

func dot(w []float32, h []float32) float64 {
	s := float64(w[len(h)]) // bias
	for i, v := range h {
		s += float64(w[i] * v)
	}
	return s
}

func softmax(w []float32, h []float32, k int, out []float64) []float64 {
	out = out[:0]
	d := len(h) + 1
	mx := math.Inf(-1)
	for j := range k {
		z := dot(w[j*d:(j+1)*d], h)
		out = append(out, z)
		mx = math.Max(mx, z)
	}
	var sum float64
	for j := range out {
		out[j] = math.Exp(out[j] - mx)
		sum += out[j]
	}
	for j := range out {
		out[j] /= sum
	}
	return out
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// Predict returns the model's probabilities for an item. The slices are
// the caller's.
func (m *Model) Predict(title, summary string) Prediction {
	s := m.scratch()
	defer m.pool.Put(s)
	feats := s.f.features(title, summary)
	m.rel.embed(feats, s.h)
	m.typ.embed(feats, s.ht)
	m.reg.embed(feats, s.hr)
	p := Prediction{Relevant: sigmoid(dot(m.rel.out, s.h))}
	p.Types = slices.Clone(softmax(m.typ.out, s.ht, m.typ.k, s.outT))
	p.Regions = slices.Clone(softmax(m.reg.out, s.hr, m.reg.k, s.outR))
	return p
}

// relevance returns the relevance probability and the argmax type and
// region of an item (no allocation).
func (m *Model) relevance(title, summary string) (p float64, typ, reg int) {
	s := m.scratch()
	defer m.pool.Put(s)
	feats := s.f.features(title, summary)
	return m.probability(s, feats), m.typeOf(s, feats), m.regionOf(s, feats)
}

// probability is the relevance head's.
func (m *Model) probability(s *modelScratch, feats []feature) float64 {
	m.rel.embed(feats, s.h)
	s.p = sigmoid(dot(m.rel.out, s.h))
	return s.p
}

// typeOf and regionOf are the type and region heads' choices.
func (m *Model) typeOf(s *modelScratch, feats []feature) int {
	m.typ.embed(feats, s.ht)
	s.outT = softmax(m.typ.out, s.ht, m.typ.k, s.outT)
	return argmax(s.outT)
}

func (m *Model) regionOf(s *modelScratch, feats []feature) int {
	m.reg.embed(feats, s.hr)
	s.outR = softmax(m.reg.out, s.hr, m.reg.k, s.outR)
	return argmax(s.outR)
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// Contribution is one feature's share of the relevance decision.
type Contribution struct {
	Field      string  // "title" or "summary"
	Start, End int     // byte span
	Weight     float64 // its contribution to the relevance log-odds
}

// Explain returns the n features that pushed the relevance decision most
// (towards relevant if the model says relevant, else away from it), one
// per span of text.
func (m *Model) Explain(title, summary string, n int) []Contribution {
	s := m.scratch()
	defer m.pool.Put(s)
	feats := s.f.features(title, summary)
	m.probability(s, feats)
	return m.explain(s, feats, n)
}

func (m *Model) explain(s *modelScratch, feats []feature, n int) []Contribution {
	var total float32
	for _, f := range feats {
		total += featureWeight(f)
	}
	sign := 1.0
	if s.p < 0.5 {
		sign = -1
	}
	var top []Contribution // the n best so far, best first
	buf := make([]float32, m.rel.dim)
	for _, f := range feats {
		var z float64
		for i, v := range m.rel.row(f.bucket, buf) {
			z += float64(m.rel.out[i] * v)
		}
		c := Contribution{Field: [2]string{"title", "summary"}[f.field], Start: int(f.start), End: int(f.end),
			Weight: z * float64(featureWeight(f)/total)}
		if slices.ContainsFunc(top, func(x Contribution) bool { return x.Field == c.Field && x.Start == c.Start && x.End == c.End }) {
			continue // a repeated word: its first place stands for it
		}
		at := len(top)
		for at > 0 && sign*top[at-1].Weight < sign*c.Weight {
			at--
		}
		if at < n {
			top = slices.Insert(top, at, c)
			if len(top) > n {
				top = top[:n]
			}
		}
	}
	return top
}

// Train fits a model to examples for the taxonomy: deterministic for a
// seed (one goroutine, examples shuffled by a seeded generator).
func Train(tx *events.Taxonomy, examples []Example, cfg TrainConfig) (*Model, error) {
	if cfg.Buckets == 0 || cfg.Dim <= 0 || cfg.HeadDim <= 0 || cfg.Dim > maxDim || cfg.HeadDim > maxDim ||
		cfg.Epochs <= 0 || cfg.Rate <= 0 || cfg.HeadEpochs <= 0 || cfg.HeadRate <= 0 {
		return nil, fmt.Errorf("classify: training needs buckets, dims (at most %d), epochs and rates", maxDim)
	}
	m := &Model{Meta: ModelMeta{TaxonomyVersion: tx.Version, Buckets: cfg.Buckets, Dim: cfg.Dim, HeadDim: cfg.HeadDim,
		Epochs: cfg.Epochs, Rate: cfg.Rate, HeadEpochs: cfg.HeadEpochs, HeadRate: cfg.HeadRate,
		Seed: cfg.Seed, Examples: len(examples)}}
	for _, t := range tx.Types {
		m.Meta.Types = append(m.Meta.Types, t.ID)
	}
	for _, r := range tx.Regions {
		m.Meta.Regions = append(m.Meta.Regions, r.ID)
	}
	f := featurizer{buckets: cfg.Buckets}
	var all, relevant []sample
	sets := map[string]bool{}
	for _, e := range examples {
		sm := sample{feats: slices.Clone(f.features(e.Title, e.Summary)), weight: 1}
		if e.Relevant {
			sm.label, sm.weight = 1, cfg.PositiveWeight
			t, r := slices.Index(m.Meta.Types, e.Type), slices.Index(m.Meta.Regions, e.Region)
			if t < 0 || r < 0 {
				return nil, fmt.Errorf("classify: example %q: unknown type %q or region %q", e.Title, e.Type, e.Region)
			}
			relevant = append(relevant, sample{feats: sm.feats, label: t, weight: 1}, sample{feats: sm.feats, label: r, weight: 1})
			m.Meta.Relevant++
			if m.Meta.RelevantByScript == nil {
				m.Meta.RelevantByScript = map[string]int{}
			}
			m.Meta.RelevantByScript[Script(e.Title, e.Summary)]++
		}
		all = append(all, sm)
		sets[e.Set] = true
	}
	for s := range sets {
		m.Meta.Sets = append(m.Meta.Sets, s)
	}
	slices.Sort(m.Meta.Sets)
	var types, regions []sample
	for i := 0; i < len(relevant); i += 2 {
		types, regions = append(types, relevant[i]), append(regions, relevant[i+1])
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0xda942042e4dd58b5))
	m.rel = newHead(1, cfg.Dim, cfg.Buckets, rng)
	m.typ = newHead(len(m.Meta.Types), cfg.HeadDim, cfg.Buckets, rng)
	m.reg = newHead(len(m.Meta.Regions), cfg.HeadDim, cfg.Buckets, rng)
	m.rel.train(all, cfg.Epochs, cfg.Rate, rng)
	m.typ.train(types, cfg.HeadEpochs, cfg.HeadRate, rng)
	m.reg.train(regions, cfg.HeadEpochs, cfg.HeadRate, rng)
	for _, hd := range []*head{&m.rel, &m.typ, &m.reg} {
		hd.quantize()
	}
	return m, nil
}

// sample is one training example of a head: its features, its class (for
// relevance, 1 or 0) and its weight in the loss.
type sample struct {
	feats  []feature
	label  int
	weight float64
}

func newHead(k, dim int, buckets uint32, rng *rand.Rand) head {
	h := head{k: k, dim: dim, emb: make([]float32, int(buckets)*dim), out: make([]float32, k*(dim+1))}
	for i := range h.emb {
		h.emb[i] = float32((rng.Float64()*2 - 1) / float64(dim))
	}
	return h
}

// train runs stochastic gradient descent over samples for epochs passes,
// the learning rate decaying linearly to 0: logistic loss for one output,
// softmax loss for several.
func (hd *head) train(samples []sample, epochs int, rate float64, rng *rand.Rand) {
	d := hd.dim
	h, gh := make([]float32, d), make([]float32, d)
	var probs []float64
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	steps, step := epochs*len(samples), 0
	for range epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			sm := samples[k]
			lr := float32(rate * (1 - float64(step)/float64(steps)))
			step++
			total := hd.embed(sm.feats, h)
			if total == 0 {
				continue
			}
			clear(gh)
			if hd.k == 1 {
				g := float32(sm.weight * (sigmoid(dot(hd.out, h)) - float64(sm.label)))
				updateHead(hd.out, h, gh, g, lr)
			} else {
				probs = softmax(hd.out, h, hd.k, probs)
				for j, p := range probs {
					g := float32(p)
					if j == sm.label {
						g -= 1
					}
					updateHead(hd.out[j*(d+1):(j+1)*(d+1)], h, gh, float32(sm.weight)*g, lr)
				}
			}
			for _, ft := range sm.feats {
				scale := lr * featureWeight(ft) / total
				row := hd.emb[int(ft.bucket)*d : int(ft.bucket)*d+d]
				for i := range row {
					row[i] -= scale * gh[i]
				}
			}
		}
	}
}

// modelMagic starts a model file; the JSON meta and the weights follow.
const modelMagic = "TWMODEL1"

// WriteTo writes the model: the magic, the length and JSON of its meta,
// then for each head (relevance, type, region) its scale (float32), its
// quantized embeddings (int8) and its output layer (float32), little-endian.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	meta, err := json.Marshal(m.Meta)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(modelMagic)
	binary.Write(bw, binary.LittleEndian, uint32(len(meta)))
	bw.Write(meta)
	n := int64(len(modelMagic) + 4 + len(meta))
	for _, hd := range []*head{&m.rel, &m.typ, &m.reg} {
		if hd.q == nil {
			return 0, errors.New("classify: only a trained (quantized) model can be written")
		}
		binary.Write(bw, binary.LittleEndian, hd.scale)
		binary.Write(bw, binary.LittleEndian, hd.q)
		if err := binary.Write(bw, binary.LittleEndian, hd.out); err != nil {
			return 0, err
		}
		n += 4 + int64(len(hd.q)) + 4*int64(len(hd.out))
	}
	return n, bw.Flush()
}

// ReadModel reads a model written by WriteTo and checks that it was trained
// for this taxonomy: its version, types and regions.
func ReadModel(b []byte, tx *events.Taxonomy) (*Model, error) {
	if !bytes.HasPrefix(b, []byte(modelMagic)) || len(b) < len(modelMagic)+4 {
		return nil, errors.New("classify: not a model file (no " + modelMagic + " header)")
	}
	b = b[len(modelMagic):]
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return nil, errors.New("classify: model file truncated in its header")
	}
	m := &Model{}
	if err := json.Unmarshal(b[:n], &m.Meta); err != nil {
		return nil, fmt.Errorf("classify: model header: %w", err)
	}
	b = b[n:]
	meta := m.Meta
	if meta.Dim <= 0 || meta.HeadDim <= 0 || meta.Buckets == 0 || meta.Dim > maxDim || meta.HeadDim > maxDim || meta.Buckets > 1<<24 ||
		len(meta.Types) == 0 || len(meta.Regions) == 0 {
		return nil, fmt.Errorf("classify: model header: dim %d/%d, buckets %d, %d types, %d regions: out of range",
			meta.Dim, meta.HeadDim, meta.Buckets, len(meta.Types), len(meta.Regions))
	}
	if tx != nil {
		var types, regions []string
		for _, t := range tx.Types {
			types = append(types, t.ID)
		}
		for _, r := range tx.Regions {
			regions = append(regions, r.ID)
		}
		if meta.TaxonomyVersion != tx.Version || !slices.Equal(types, meta.Types) || !slices.Equal(regions, meta.Regions) {
			return nil, fmt.Errorf("classify: the model was trained for taxonomy %s, this is %s: retrain it (collector train)", meta.TaxonomyVersion, tx.Version)
		}
	}
	bk := int(meta.Buckets)
	m.rel = head{k: 1, dim: meta.Dim}
	m.typ = head{k: len(meta.Types), dim: meta.HeadDim}
	m.reg = head{k: len(meta.Regions), dim: meta.HeadDim}
	want := 0
	for _, hd := range []*head{&m.rel, &m.typ, &m.reg} {
		want += 4 + bk*hd.dim + 4*hd.k*(hd.dim+1)
	}
	if len(b) != want {
		return nil, fmt.Errorf("classify: model file has %d bytes of weights, want %d", len(b), want)
	}
	for _, hd := range []*head{&m.rel, &m.typ, &m.reg} {
		hd.scale = math.Float32frombits(binary.LittleEndian.Uint32(b))
		b = b[4:]
		hd.q = make([]int8, bk*hd.dim)
		for i := range hd.q {
			hd.q[i] = int8(b[i])
		}
		hd.biased()
		b = b[len(hd.q):]
		hd.out = make([]float32, hd.k*(hd.dim+1))
		for i := range hd.out {
			hd.out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		b = b[4*len(hd.out):]
	}
	return m, nil
}

// updateHead takes one gradient step on a head row (weights and bias) for
// the output gradient g, accumulating the gradient of h into gh first.
func updateHead(w, h, gh []float32, g, lr float32) {
	if g == 0 {
		return
	}
	for i, v := range h {
		gh[i] += g * w[i]
		w[i] -= lr * g * v
	}
	w[len(h)] -= lr * g
}
