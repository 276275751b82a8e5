package fetcher

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

var (
	declWithEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*encoding\s*=`)
	xmlDecl          = regexp.MustCompile(`^\s*<\?xml[^>]*\?>`)
	utf8BOM          = []byte{0xEF, 0xBB, 0xBF}
)

// toParseable returns the bytes to hand to gofeed (see ../../../shared/stack.md §3):
//   - a document that declares its encoding goes to gofeed as it is, which
//     decodes it by the declaration (decoding it here as well would garble it);
//   - otherwise it is transcoded to UTF-8 by its BOM or the HTTP charset, and its
//     XML declaration dropped;
//   - a UTF-8 document's invalid bytes are replaced by U+FFFD, since one bad
//     byte would otherwise fail the whole feed.
func toParseable(body []byte, contentType string) ([]byte, error) {
	body = bytes.TrimPrefix(body, utf8BOM)
	utf16 := len(body) >= 2 && (body[0] == 0xFF && body[1] == 0xFE || body[0] == 0xFE && body[1] == 0xFF)
	if !utf16 && declWithEncoding.Match(body[:min(len(body), 512)]) {
		if m := declaredEncoding(body); m == "utf-8" || m == "utf8" {
			return bytes.ToValidUTF8(body, []byte("\uFFFD")), nil
		}
		return body, nil
	}
	if !utf16 && contentTypeCharset(contentType) == "" && utf8.Valid(body) {
		return body, nil
	}
	r, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return nil, fmt.Errorf("%w: decoding charset of %q: %v", ErrParse, contentType, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: transcoding: %v", ErrParse, err)
	}
	out = bytes.TrimPrefix(out, utf8BOM)
	out = xmlDecl.ReplaceAll(out, nil)
	return bytes.ToValidUTF8(out, []byte("\uFFFD")), nil
}

var encodingAttr = regexp.MustCompile(`(?i)encoding\s*=\s*["']([^"']+)["']`)

func declaredEncoding(body []byte) string {
	decl := xmlDecl.Find(body[:min(len(body), 512)])
	if m := encodingAttr.FindSubmatch(decl); m != nil {
		return string(bytes.ToLower(m[1]))
	}
	return ""
}

var ctCharset = regexp.MustCompile(`(?i)charset\s*=\s*"?([^\s;"]+)`)

func contentTypeCharset(ct string) string {
	if m := ctCharset.FindStringSubmatch(ct); m != nil {
		return m[1]
	}
	return ""
}
