package analytics

import (
	"math"
	"slices"
	"strings"

	"switchboard"
)

// Result is what Analyse makes of a transcript.
type Result struct {
	Summary string
	Score   int
	Parts   switchboard.ScoreParts
}

// Weights of the score's parts (see the package doc); TalkRatio's weight is
// left out, and the others count for the whole, when the transcript does
// not say who spoke.
const (
	weightSentiment = 40
	weightTalkRatio = 20
	weightSilence   = 20
	weightKeywords  = 20
)

// Analyse summarises and scores a transcript. It is a pure function of the
// transcript, so the same recording always gets the same result.
func Analyse(t switchboard.Transcript) Result {
	var p switchboard.ScoreParts
	customer := textOf(t.Segments, switchboard.SpeakerCustomer)
	p.Sentiment = sentiment(customer)

	var agentTalk, customerTalk float64
	for _, s := range t.Segments {
		switch s.Speaker {
		case switchboard.SpeakerAgent:
			agentTalk += s.End - s.Start
		case switchboard.SpeakerCustomer:
			customerTalk += s.End - s.Start
		}
	}
	if agentTalk+customerTalk > 0 {
		r := agentTalk / (agentTalk + customerTalk)
		part := 100
		switch {
		case r < 0.35:
			part = int(math.Round(100 * r / 0.35))
		case r > 0.65:
			part = int(math.Round(100 * (1 - r) / 0.35))
		}
		r = math.Round(r*1000) / 1000
		p.AgentTalkShare, p.TalkRatio = &r, &part
	}

	p.SilenceShare = silenceShare(t)
	switch s := p.SilenceShare; {
	case s <= 0.10:
		p.Silence = 100
	case s >= 0.60:
		p.Silence = 0
	default:
		p.Silence = int(math.Round(100 * (0.60 - s) / 0.50))
	}

	agent := textOf(t.Segments, switchboard.SpeakerAgent)
	p.KeywordsHit = []string{}
	for _, g := range keywordGroups {
		if slices.ContainsFunc(g.phrases, func(ph string) bool { return strings.Contains(agent, " "+ph+" ") }) {
			p.KeywordsHit = append(p.KeywordsHit, g.name)
		}
	}
	p.Keywords = 100 * len(p.KeywordsHit) / len(keywordGroups)

	sum := weightSentiment*p.Sentiment + weightSilence*p.Silence + weightKeywords*p.Keywords
	weights := weightSentiment + weightSilence + weightKeywords
	if p.TalkRatio != nil {
		sum += weightTalkRatio * *p.TalkRatio
		weights += weightTalkRatio
	}
	return Result{Summary: Summarise(t.Segments), Score: int(math.Round(float64(sum) / float64(weights))), Parts: p}
}

// textOf is the normalised text (see normalise) of who's segments, or of
// every segment when nobody is labelled who: a transcript that does not say
// who spoke is read as a whole.
func textOf(segs []switchboard.TranscriptSegment, who switchboard.Speaker) string {
	var b strings.Builder
	labelled := slices.ContainsFunc(segs, func(s switchboard.TranscriptSegment) bool { return s.Speaker == who })
	for _, s := range segs {
		if !labelled || s.Speaker == who {
			b.WriteString(s.Text)
			b.WriteByte(' ')
		}
	}
	return normalise(b.String())
}

// normalise lower-cases s and turns every run of characters other than
// letters and digits into one space, with a space at each end, so that a
// phrase is found as " phrase " on word boundaries ("I'm" reads "i m").
func normalise(s string) string {
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && r != '\u2019' {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// The sentiment lexicon: words that say the customer is pleased or not, and
// the words that turn the next one around.
var (
	positiveWords = wordSet("great", "thanks", "thank", "perfect", "happy", "glad", "excellent", "good", "resolved", "solved",
		"appreciate", "wonderful", "helpful", "awesome", "love", "works", "fixed", "brilliant", "pleased", "fantastic")
	negativeWords = wordSet("problem", "issue", "angry", "frustrated", "frustrating", "terrible", "awful", "bad", "wrong",
		"broken", "complaint", "disappointed", "unhappy", "annoyed", "worst", "useless", "ridiculous", "unacceptable", "rude", "late")
	negations    = wordSet("not", "no", "never", "cannot", "nothing")
	contractions = wordSet("don", "didn", "doesn", "isn", "wasn", "won", "can", "couldn", "wouldn", "aren") // before "t"
)

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// sentiment scores normalised text 0-100: 50 + 50 × (pos − neg) / (pos +
// neg + 2), counting lexicon words, a word right after a negation ("not
// good", "don't like") counted as its opposite. No words: 50.
func sentiment(text string) int {
	var pos, neg int
	words := strings.Fields(text)
	for i, w := range words {
		negated := i > 0 && negations[words[i-1]] || i > 1 && words[i-1] == "t" && contractions[words[i-2]]
		switch {
		case positiveWords[w] && !negated, negativeWords[w] && negated:
			pos++
		case negativeWords[w], positiveWords[w]:
			neg++
		}
	}
	return int(math.Round(50 + 50*float64(pos-neg)/float64(pos+neg+2)))
}

// silenceShare is the share of the recording in which nobody speaks: one
// minus the union of the segments' spans over the recording's length (the
// transcript's Duration, else the end of its last segment).
func silenceShare(t switchboard.Transcript) float64 {
	spans := make([][2]float64, 0, len(t.Segments))
	end := 0.0
	for _, s := range t.Segments {
		spans = append(spans, [2]float64{s.Start, s.End})
		end = max(end, s.End)
	}
	d := t.Duration
	if d <= 0 {
		d = end
	}
	if d <= 0 {
		return 1
	}
	slices.SortFunc(spans, func(a, b [2]float64) int { return cmpFloat(a[0], b[0]) })
	var speech, from, to float64
	open := false
	for _, sp := range spans {
		if open && sp[0] <= to {
			to = max(to, sp[1])
			continue
		}
		if open {
			speech += to - from
		}
		from, to, open = sp[0], sp[1], true
	}
	if open {
		speech += to - from
	}
	return math.Round(math.Min(1, math.Max(0, 1-speech/d))*1000) / 1000
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// keywordGroups are the agent's good-practice phrases, by what they show;
// each group heard is worth an equal share of the keywords part.
var keywordGroups = []struct {
	name    string
	phrases []string
}{
	{"greeting", []string{"hello", "hi", "good morning", "good afternoon", "good evening", "thank you for calling", "thanks for calling", "welcome"}},
	{"offer_help", []string{"how can i help", "how may i help", "what can i do for you", "happy to help", "glad to help"}},
	{"empathy", []string{"i understand", "sorry", "apologize", "apologise"}},
	{"anything_else", []string{"anything else"}},
	{"closing", []string{"have a great day", "have a nice day", "have a good day", "goodbye", "bye"}},
}

// Cues of the summary's two lines (see Summarise).
var (
	needCues = []string{"i need", "i want", "i would like", "i d like", "i m calling", "i am calling", "calling about",
		"calling to", "can you", "could you", "help me", "problem", "issue", "question", "trying to", "where is"}
	outcomeCues = []string{"i ve", "i have", "has been", "have been", "will be", "is now", "are now", "done", "scheduled",
		"rescheduled", "sent", "refund", "resolved", "fixed", "updated", "cancelled", "canceled", "booked", "confirmed", "issued"}
)

// Summarise makes the extractive summary of a transcript: the customer's
// need, which is their first segment holding a need cue ("I need", "calling
// about", "problem"…) or else their first segment, and the outcome, which is
// the agent's last segment holding an outcome cue ("I've", "has been",
// "refund"…) or else their last segment. Each line is prefixed with its
// speaker ("Customer: … Agent: …"); a transcript that does not say who spoke
// takes the first segment with a need cue and the last with an outcome cue
// among all. Empty for an empty transcript.
func Summarise(segs []switchboard.TranscriptSegment) string {
	labelled := slices.ContainsFunc(segs, func(s switchboard.TranscriptSegment) bool { return s.Speaker != switchboard.SpeakerUnknown })
	pick := func(who switchboard.Speaker, cues []string, last bool) string {
		var first, cued string
		for i := range segs {
			s := segs[i]
			if last {
				s = segs[len(segs)-1-i]
			}
			if labelled && s.Speaker != who || strings.TrimSpace(s.Text) == "" {
				continue
			}
			if first == "" {
				first = strings.TrimSpace(s.Text)
			}
			text := normalise(s.Text)
			if slices.ContainsFunc(cues, func(c string) bool { return strings.Contains(text, " "+c+" ") }) {
				cued = strings.TrimSpace(s.Text)
				break
			}
		}
		if cued == "" {
			return first
		}
		return cued
	}
	need := pick(switchboard.SpeakerCustomer, needCues, false)
	outcome := pick(switchboard.SpeakerAgent, outcomeCues, true)
	var parts []string
	if need != "" {
		if labelled {
			need = "Customer: " + need
		}
		parts = append(parts, need)
	}
	if outcome != "" && (outcome != strings.TrimPrefix(need, "Customer: ") || labelled) {
		if labelled {
			outcome = "Agent: " + outcome
		}
		parts = append(parts, outcome)
	}
	s := strings.Join(parts, " ")
	if len(s) > 1000 {
		s = strings.ToValidUTF8(s[:1000], "")
	}
	return s
}
