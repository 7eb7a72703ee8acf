package sip

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"

	"switchboard/internal/audio"
	"switchboard/internal/engine"
)

// Media: each answered leg has one goroutine reading its RTP. What it reads
// goes to the leg it is bridged to (transcoded when the two negotiated
// different laws) and into the call's recording; RFC 4733 digits (and SIP
// INFO ones, which diago turns into the same events) are reported to the
// engine. A leg not bridged hears what Play started: music or a prompt,
// paced at one 20 ms frame per tick.

// startMedia brings up an answered leg's audio.
func (l *leg) startMedia(med *diago.DialogMedia) {
	codec := audio.PCMU
	sess := med.MediaSession()
	if media.CodecAudioFromSession(sess).PayloadType == 8 {
		codec = audio.PCMA
	}
	dtmfPT := -1
	for _, c := range sess.CommonCodecs() {
		if c.Matches(media.CodecTelephoneEvent8000) {
			dtmfPT = int(c.PayloadTypeRecv())
		}
	}
	w := med.RTPPacketWriter
	if w == nil {
		l.d.log.Error("sip: no RTP writer", "leg", l.id)
		return
	}
	var r io.Reader
	var err error
	if dtmfPT >= 0 {
		dr, err := med.AudioReaderDTMF()
		if err == nil {
			dr.OnDTMF(func(digit rune) error {
				l.d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegDTMF, Digits: string(digit)})
				return nil
			})
			r = dr
		}
	}
	if r == nil {
		if r, err = med.AudioReader(); err != nil {
			l.d.log.Error("sip: no audio reader", "leg", l.id, "err", err)
			return
		}
	}
	l.lastRTP.Store(time.Now().UnixNano())
	l.mu.Lock()
	l.med, l.w, l.codec, l.dtmfPT, l.answered, l.marker = med, w, codec, dtmfPT, true, true
	pending := l.pending
	l.pending = ""
	l.mu.Unlock()
	go l.read(med, r)
	if pending != "" {
		l.startPlay(pending)
	}
}

// read relays the leg's audio until its media closes.
func (l *leg) read(med *diago.DialogMedia, r io.Reader) {
	buf := make([]byte, media.RTPBufSize)
	audioPT := uint8(l.codec)
	for {
		n, err := r.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) && !l.isEnded() {
				l.d.log.Debug("sip: media read ended", "leg", l.id, "err", err)
			}
			return
		}
		l.lastRTP.Store(time.Now().UnixNano())
		if med.RTPPacketReader.PacketHeader.PayloadType != audioPT || n == 0 {
			continue // digits (already reported), comfort noise
		}
		frame := buf[:n]
		l.mu.Lock()
		peer, rec := l.peer, l.rec
		l.mu.Unlock()
		if rec != nil {
			rec.Write(audio.Left, l.codec, frame)
		}
		if peer != nil {
			peer.mu.Lock()
			prec := peer.rec
			peer.mu.Unlock()
			if prec != nil {
				prec.Write(audio.Right, l.codec, frame)
			}
			peer.send(l.codec, frame)
		}
	}
}

// send writes one frame encoded in from to the leg's far end.
func (l *leg) send(from audio.Codec, frame []byte) {
	l.mu.Lock()
	w, to := l.w, l.codec
	l.mu.Unlock()
	if w == nil {
		return
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if from != to {
		var tmp [512]byte
		frame = audio.Transcode(tmp[:0], frame, from, to)
	}
	l.mu.Lock()
	marker := l.marker
	l.marker = false
	l.mu.Unlock()
	// G.711 has one sample per byte: the timestamp moves by the frame's length.
	w.WriteSamples(frame, uint32(len(frame)), marker, uint8(to))
}

// Bridge implements engine.CallControl: a and b hear each other, and
// whatever played to them stops.
func (d *Driver) Bridge(a, b engine.LegID) {
	la, lb := d.leg(a), d.leg(b)
	if la == nil || lb == nil {
		return
	}
	la.unlink()
	lb.unlink()
	for _, p := range [][2]*leg{{la, lb}, {lb, la}} {
		p[0].mu.Lock()
		p[0].stopPlayLocked()
		p[0].pending = ""
		p[0].marker = true // what it hears now comes from the other leg
		if !p[0].ended {
			p[0].peer = p[1]
		}
		p[0].mu.Unlock()
	}
}

// unlink ends the leg's bridge, both ways.
func (l *leg) unlink() {
	l.mu.Lock()
	peer := l.peer
	l.peer = nil
	l.mu.Unlock()
	if peer != nil {
		peer.mu.Lock()
		if peer.peer == l {
			peer.peer = nil
		}
		peer.mu.Unlock()
	}
}

// Play implements engine.MediaControl. On a leg not yet answered,
// "ringback" sends 180 Ringing and anything else waits for the answer.
func (d *Driver) Play(id engine.LegID, name string) {
	l := d.leg(id)
	if l == nil {
		return
	}
	l.mu.Lock()
	answered := l.answered
	if !answered {
		l.pending = name
	}
	l.mu.Unlock()
	if !answered {
		if l.inbound && name == "ringback" {
			l.do(func() {
				if !l.isEnded() {
					l.srv.Ringing()
				}
			})
		}
		return
	}
	l.unlink()
	l.startPlay(name)
}

// startPlay plays the named prompt on an answered leg, replacing what
// played before.
func (l *leg) startPlay(name string) {
	p := l.d.prompts.get(name, l.tenant)
	loop := loops(name)
	stop := make(chan struct{})
	var greeting chan struct{}
	if _, ok := engine.ParseVoicemailMedia(name); ok {
		greeting = make(chan struct{})
	}
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.stopPlayLocked()
	l.playStop = stop
	l.marker = true
	codec := l.codec
	if greeting != nil {
		l.greeting = greeting
	}
	l.mu.Unlock()
	go func() {
		if greeting != nil {
			defer close(greeting)
		}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for i := 0; loop || i < p.Frames(); i++ {
			select {
			case <-stop:
				return
			case <-l.done:
				return
			case <-t.C:
			}
			l.send(codec, p.Frame(codec, i))
		}
	}()
}

// stopPlayLocked stops what plays on the leg. l.mu is held.
func (l *leg) stopPlayLocked() {
	if l.playStop != nil {
		close(l.playStop)
		l.playStop = nil
	}
}

// Record implements engine.MediaControl: the recording of call is written
// from this leg (left) and whatever it is bridged to (right). On a leg
// hearing a voicemail greeting the recording starts once the greeting (and
// its beep) has played: the message is what the caller says after it.
func (d *Driver) Record(id engine.LegID, call int64, on bool) {
	l := d.leg(id)
	if l == nil {
		return
	}
	l.do(func() {
		l.mu.Lock()
		old := l.rec
		if old != nil && (on || l.recCall == call) {
			l.rec = nil
		} else {
			old = nil
		}
		ended, greeting := l.ended, l.greeting
		if !on && l.recCall == call {
			l.recCall = 0 // a start still waiting for the greeting is off
		}
		if on {
			l.recCall = call
		}
		l.mu.Unlock()
		if old != nil {
			if err := old.Close(); err != nil {
				d.log.Error("sip: recording failed", "leg", l.id, "err", err)
			}
		}
		if !on || ended {
			return
		}
		if greeting == nil {
			d.startRecording(l, call)
			return
		}
		go func() {
			select {
			case <-greeting:
				l.do(func() { d.startRecording(l, call) })
			case <-l.done:
			}
		}()
	})
}

// startRecording opens call's recording on the leg, unless the leg has
// ended or its recording was turned off or over to another call meanwhile.
// It runs on the leg's worker.
func (d *Driver) startRecording(l *leg, call int64) {
	l.mu.Lock()
	wanted := !l.ended && l.rec == nil && l.recCall == call
	l.mu.Unlock()
	if !wanted {
		return
	}
	rec, err := audio.CreateRecorder(d.recordingPath(call), time.Now)
	if err != nil {
		d.log.Error("sip: cannot record", "call", call, "err", err)
		return
	}
	l.mu.Lock()
	if l.ended || l.rec != nil || l.recCall != call {
		l.mu.Unlock()
		rec.Close()
		return
	}
	l.rec = rec
	l.mu.Unlock()
}

// watchRTP ends answered legs whose far end has gone silent for longer than
// the RTP timeout: a phone that lost power or a carrier that dropped the
// call without a BYE would otherwise hold an agent forever.
func (d *Driver) watchRTP() {
	defer d.watchers.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		}
		limit := time.Now().Add(-d.opt.RTPTimeout).UnixNano()
		d.mu.Lock()
		var dead []*leg
		for _, l := range d.legs {
			l.mu.Lock()
			if l.answered && !l.ended && l.lastRTP.Load() < limit {
				dead = append(dead, l)
			}
			l.mu.Unlock()
		}
		d.mu.Unlock()
		for _, l := range dead {
			d.log.Info("sip: no RTP; ending the leg", "leg", l.id, "timeout", d.opt.RTPTimeout)
			l.hangup("no RTP", false)
			d.report(l, engine.LegEvent{Leg: l.id, Type: engine.LegHungUp, Cause: "media timeout: no RTP for " + d.opt.RTPTimeout.String() + " (Q.850 102)"})
		}
	}
}

// trackDialog remembers which leg a SIP dialog (by Call-ID) belongs to, for
// in-dialog requests the driver handles itself (REFER).
func (d *Driver) trackDialog(l *leg, callID string) {
	d.mu.Lock()
	if d.byCallID == nil {
		d.byCallID = map[string]*leg{}
	}
	d.byCallID[callID] = l
	d.mu.Unlock()
	go func() {
		<-l.gone
		d.mu.Lock()
		if d.byCallID[callID] == l {
			delete(d.byCallID, callID)
		}
		d.mu.Unlock()
	}()
}
