package sim

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
)

// MaxFaxPages bounds the pages of a simulated fax.
const MaxFaxPages = 200

// WriteFax writes the document of a simulated fax: a PDF with one A4 page
// per page sent, each saying who sent it to whom, when, and its number. The
// simulator keeps no documents; like recordings, they are made on demand
// from the call, so a fax always has an attachment to fetch.
func WriteFax(w io.Writer, pages int, from, to string, at time.Time) error {
	pages = min(max(pages, 1), MaxFaxPages)
	var b bytes.Buffer
	offsets := []int{0} // object 0 is the free-list head
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets)-1, body)
	}
	b.WriteString("%PDF-1.4\n")
	// 1: catalog, 2: page tree, 3: font, then a page and its content per page.
	kids := make([]string, pages)
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>")
	esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`)
	for i := range pages {
		text := esc.Replace(fmt.Sprintf("Fax from %s to %s, %s - page %d of %d", from, to, at.UTC().Format(time.RFC3339), i+1, pages))
		stream := fmt.Sprintf("BT /F1 11 Tf 56 780 Td (%s) Tj ET", text)
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets))
	for _, off := range offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets), xref)
	_, err := w.Write(b.Bytes())
	return err
}
