//! S3's XML, the one parser of the backend: a small element tree read with a real XML
//! tokenizer ([xmlparser]), the readers of every response body the backend parses
//! (ListObjectsV2, ListMultipartUploads, ListParts, DeleteObjects, the results of the copy and
//! multipart operations, `<Error>`), and the writer of the two request bodies we send
//! (CompleteMultipartUpload, Delete). Fuzzed: `fuzz/fuzz_targets/s3_xml.rs` and `s3_list.rs`.
//!
//! The tree keeps each element's local name (namespace prefixes dropped: servers differ in
//! whether they declare S3's namespace), its direct text (entities and character references
//! decoded, CDATA kept as is) and its children. Attributes are read and ignored. A document
//! type declaration is refused (S3 never sends one), and so is nesting deeper than
//! [`MAX_DEPTH`], so that no input can exhaust the stack, here or when the tree is dropped.

use std::time::SystemTime;

use xmlparser::{ElementEnd, Token, Tokenizer};

/// The deepest nesting accepted (S3 responses nest four levels at most).
pub(crate) const MAX_DEPTH: usize = 32;

/// One XML element.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Element {
    /// The local name (`Key` in `<s3:Key>`).
    pub(crate) name: String,
    /// The direct text, decoded.
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`, in order.
    pub(crate) fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub(crate) fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses a whole document into its root element. The error is a phrase for a message.
pub(crate) fn parse(xml: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    for token in Tokenizer::from(xml) {
        let token = token.map_err(|e| e.to_string())?;
        match token {
            Token::ElementStart { local, .. } => {
                if root.is_some() {
                    return Err("content after the root element".into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} elements"));
                }
                stack.push(Element {
                    name: local.as_str().to_owned(),
                    ..Element::default()
                });
            }
            Token::ElementEnd { end, .. } => {
                let close = match end {
                    ElementEnd::Open => continue,
                    ElementEnd::Empty => true,
                    ElementEnd::Close(_, local) => {
                        let open = stack.last().map(|e| e.name.as_str());
                        if open != Some(local.as_str()) {
                            return Err(format!("mismatched closing tag </{}>", local.as_str()));
                        }
                        true
                    }
                };
                if close {
                    let Some(done) = stack.pop() else {
                        return Err("closing tag without an opening one".into());
                    };
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
            }
            Token::Text { text } => {
                if let Some(open) = stack.last_mut() {
                    unescape_into(text.as_str(), &mut open.text)?;
                } else if !text.as_str().trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Token::Cdata { text, .. } => match stack.last_mut() {
                Some(open) => open.text.push_str(text.as_str()),
                None => return Err("CDATA outside the root element".into()),
            },
            Token::DtdStart { .. } | Token::EmptyDtd { .. } | Token::EntityDeclaration { .. } => {
                return Err("document type declarations are not accepted".into());
            }
            Token::Attribute { .. }
            | Token::Declaration { .. }
            | Token::ProcessingInstruction { .. }
            | Token::Comment { .. }
            | Token::DtdEnd { .. } => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

/// Decodes the five predefined entities and character references.
fn unescape_into(text: &str, out: &mut String) -> Result<(), String> {
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        let end = rest
            .find(';')
            .ok_or_else(|| "an entity without its ';'".to_owned())?;
        let entity = &rest[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(())
}

/// Escapes text for an element's content or an attribute.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept as references: a raw CR would be read back as LF by a conforming parser.
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// S3's `<Error>` body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub(crate) code: String,
    pub(crate) message: String,
}

/// The `<Error>` of a document, if its root is one.
pub(crate) fn error_body(root: &Element) -> Option<ErrorBody> {
    (root.name == "Error").then(|| ErrorBody {
        code: root.text_of("Code").unwrap_or_default().to_owned(),
        message: root.text_of("Message").unwrap_or_default().to_owned(),
    })
}

/// Reads an error response's body: `None` unless it is an S3 `<Error>` document.
pub(crate) fn parse_error(body: &str) -> Option<ErrorBody> {
    error_body(&parse(body).ok()?)
}

/// What a response document holds: the expected result, or an S3 error (CopyObject and
/// CompleteMultipartUpload can answer 200 with an `<Error>` body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Doc {
    Result(Element),
    Error(ErrorBody),
}

/// Parses a response that should have the root `expected` (or be an `<Error>`).
pub(crate) fn parse_doc(body: &str, expected: &str) -> Result<Doc, String> {
    let root = parse(body)?;
    if let Some(err) = error_body(&root) {
        return Ok(Doc::Error(err));
    }
    // `<XResponse>` for `<XResult>`: moto answers ListParts so.
    let alias = expected
        .strip_suffix("Result")
        .map(|stem| format!("{stem}Response"));
    if root.name != expected && alias.as_deref() != Some(root.name.as_str()) {
        return Err(format!("expected <{expected}>, got <{}>", root.name));
    }
    Ok(Doc::Result(root))
}

/// One failure in a DeleteObjects result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeleteError {
    pub(crate) key: String,
    pub(crate) code: String,
    pub(crate) message: String,
}

/// The failures of a `<DeleteResult>` (quiet mode lists only those).
pub(crate) fn delete_errors(root: &Element) -> Vec<DeleteError> {
    root.children("Error")
        .map(|e| DeleteError {
            key: e.text_of("Key").unwrap_or_default().to_owned(),
            code: e.text_of("Code").unwrap_or_default().to_owned(),
            message: e.text_of("Message").unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The body of a quiet DeleteObjects request for `keys`.
pub(crate) fn delete_request<'a>(keys: impl IntoIterator<Item = &'a str>) -> String {
    let mut xml = String::from("<Delete><Quiet>true</Quiet>");
    for key in keys {
        xml.push_str("<Object><Key>");
        xml.push_str(&escape(key));
        xml.push_str("</Key></Object>");
    }
    xml.push_str("</Delete>");
    xml
}

/// The body of a CompleteMultipartUpload request: `(part number, ETag without quotes)`.
pub(crate) fn complete_request<'a>(parts: impl IntoIterator<Item = (u32, &'a str)>) -> String {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (number, etag) in parts {
        xml.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>\"{}\"</ETag></Part>",
            escape(etag)
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    xml
}

/// A page of ListMultipartUploads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UploadsPage {
    /// `(key, upload id, initiated)`.
    pub(crate) uploads: Vec<(String, String, Option<SystemTime>)>,
    /// The markers of the next page, if the listing is truncated.
    pub(crate) next: Option<(String, String)>,
}

/// Reads a `<ListMultipartUploadsResult>`.
pub(crate) fn uploads_page(root: &Element) -> Result<UploadsPage, String> {
    let mut page = UploadsPage::default();
    for upload in root.children("Upload") {
        let key = upload.text_of("Key").ok_or("an upload without a Key")?;
        let id = upload
            .text_of("UploadId")
            .filter(|id| !id.is_empty())
            .ok_or("an upload without an UploadId")?;
        let started = upload
            .text_of("Initiated")
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(SystemTime::from);
        page.uploads.push((key.to_owned(), id.to_owned(), started));
    }
    if root.text_of("IsTruncated") == Some("true") {
        let key = root.text_of("NextKeyMarker").unwrap_or_default();
        let id = root.text_of("NextUploadIdMarker").unwrap_or_default();
        if key.is_empty() {
            return Err("a truncated listing without NextKeyMarker".into());
        }
        page.next = Some((key.to_owned(), id.to_owned()));
    }
    Ok(page)
}

/// One object of a ListObjectsV2 page, its fields as sent (ETag with its quotes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ListedObject {
    pub(crate) key: String,
    /// `None` when the store sent no `<Size>`.
    pub(crate) size: Option<u64>,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
}

/// A page of ListObjectsV2.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ObjectsPage {
    /// The objects, or for each that cannot be read, why (with its key).
    pub(crate) objects: Vec<Result<ListedObject, (String, String)>>,
    /// The common prefixes (`<CommonPrefixes><Prefix>`), each ending with the delimiter.
    pub(crate) prefixes: Vec<String>,
    /// The continuation token of the next page, if the listing is truncated.
    pub(crate) next: Option<String>,
}

/// Reads a `<ListBucketResult>` (ListObjectsV2). An object without a `<Key>` is an error of
/// the page; one whose `<Size>` is not a number is an error of that object. A page said to be
/// truncated must carry its `<NextContinuationToken>`; without `<IsTruncated>`, a token
/// present is followed.
pub(crate) fn objects_page(root: &Element) -> Result<ObjectsPage, String> {
    let mut page = ObjectsPage::default();
    for object in root.children("Contents") {
        let key = object.text_of("Key").ok_or("an object without a Key")?;
        let size = match object.text_of("Size").map(str::trim) {
            None => None,
            Some(n) => match n.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    page.objects
                        .push(Err((key.to_owned(), format!("invalid Size {n:?}"))));
                    continue;
                }
            },
        };
        page.objects.push(Ok(ListedObject {
            key: key.to_owned(),
            size,
            etag: object.text_of("ETag").map(str::to_owned),
            last_modified: object.text_of("LastModified").map(|t| t.trim().to_owned()),
        }));
    }
    for prefixes in root.children("CommonPrefixes") {
        page.prefixes
            .extend(prefixes.children("Prefix").map(|p| p.text.clone()));
    }
    let token = root
        .text_of("NextContinuationToken")
        .filter(|t| !t.is_empty());
    page.next = match root.text_of("IsTruncated").map(str::trim) {
        Some("false") => None,
        Some("true") => Some(
            token
                .ok_or("a truncated listing without NextContinuationToken")?
                .to_owned(),
        ),
        _ => token.map(str::to_owned),
    };
    Ok(page)
}

/// One stored part, as ListParts reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredPart {
    pub(crate) number: u32,
    /// The ETag, quotes removed.
    pub(crate) etag: String,
    pub(crate) size: u64,
}

/// A page of ListParts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PartsPage {
    pub(crate) parts: Vec<StoredPart>,
    /// The `part-number-marker` of the next page, if the listing is truncated.
    pub(crate) next: Option<u32>,
}

/// Reads a `<ListPartsResult>`. A part without a number or size is an error; so is a
/// truncated page whose next marker does not move forward. A part without an ETag (s3s-fs
/// sends none) is left out: it cannot be checked, so it is sent again.
pub(crate) fn parts_page(root: &Element) -> Result<PartsPage, String> {
    let mut page = PartsPage::default();
    for part in root.children("Part") {
        let number = part
            .text_of("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .filter(|&n| n > 0)
            .ok_or("a part without a valid PartNumber")?;
        let Some(etag) = part
            .text_of("ETag")
            .map(|e| e.trim().trim_matches('"'))
            .filter(|e| !e.is_empty())
        else {
            continue;
        };
        let size = part
            .text_of("Size")
            .and_then(|n| n.trim().parse::<u64>().ok())
            .ok_or("a part without a valid Size")?;
        page.parts.push(StoredPart {
            number,
            etag: etag.to_owned(),
            size,
        });
    }
    if root.text_of("IsTruncated").map(str::trim) == Some("true") {
        let marker = root
            .text_of("NextPartNumberMarker")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or("a truncated listing without a valid NextPartNumberMarker")?;
        let last = page.parts.iter().map(|p| p.number).max().unwrap_or(0);
        if marker == 0 || marker < last {
            return Err("a truncated listing whose next marker goes back".into());
        }
        page.next = Some(marker);
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_string_search_could_not() {
        let body = "<?xml version=\"1.0\"?>\n<Error xmlns=\"x\"><Code>NoSuchKey</Code>\
                    <Message>a &amp; b &lt;c&gt; &#x41;&#66; <![CDATA[<raw>]]></Message>\
                    <Resource/><RequestId a=\"1\">r</RequestId></Error>";
        let err = parse_error(body).unwrap();
        assert_eq!(err.code, "NoSuchKey");
        assert_eq!(err.message, "a & b <c> AB <raw>");
        let prefixed = "<s3:Error xmlns:s3=\"x\"><s3:Code>SlowDown</s3:Code></s3:Error>";
        assert_eq!(parse_error(prefixed).unwrap().code, "SlowDown");
        assert!(parse_error("<Error><Code>x</Code>").is_none());
        assert!(parse_error("<Error>&bogus;</Error>").is_none());
        assert!(parse_error("<!DOCTYPE x [<!ENTITY a \"b\">]><Error/>").is_none());
        assert!(parse_error("<Other/>").is_none());
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn delete_bodies_round_trip() {
        let keys = ["a", "b&c", "<d>", "e\"'f", "g\rh", "ü"];
        let root = parse(&delete_request(keys)).unwrap();
        let back: Vec<&str> = root
            .children("Object")
            .filter_map(|o| o.text_of("Key"))
            .collect();
        assert_eq!(back, keys);
        let result = "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>b</Key>\
                      <Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>";
        let errors = delete_errors(&parse(result).unwrap());
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].key.as_str(), errors[0].code.as_str()),
            ("b", "AccessDenied")
        );
    }

    #[test]
    fn documents_are_results_or_errors() {
        let ok = "<CopyObjectResult><ETag>\"x\"</ETag></CopyObjectResult>";
        assert!(matches!(
            parse_doc(ok, "CopyObjectResult"),
            Ok(Doc::Result(_))
        ));
        let err = "<Error><Code>InternalError</Code></Error>";
        assert!(matches!(
            parse_doc(err, "CopyObjectResult"),
            Ok(Doc::Error(_))
        ));
        assert!(parse_doc(ok, "CopyPartResult").is_err());
    }

    #[test]
    fn upload_pages() {
        let body = "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>\
                    <NextKeyMarker>k2</NextKeyMarker><NextUploadIdMarker>i2</NextUploadIdMarker>\
                    <Upload><Key>k1</Key><UploadId>i1</UploadId>\
                    <Initiated>2023-11-14T22:13:20.000Z</Initiated></Upload>\
                    </ListMultipartUploadsResult>";
        let page = uploads_page(&parse(body).unwrap()).unwrap();
        assert_eq!(page.uploads.len(), 1);
        assert_eq!(page.uploads[0].0, "k1");
        assert!(page.uploads[0].2.is_some());
        assert_eq!(page.next, Some(("k2".into(), "i2".into())));
    }

    #[test]
    fn objects_pages() {
        let body = "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                    <IsTruncated>true</IsTruncated>\
                    <NextContinuationToken>t&amp;2</NextContinuationToken>\
                    <Contents><Key>a &amp; b</Key><Size>3</Size><ETag>&quot;e&quot;</ETag>\
                    <LastModified>2023-11-14T22:13:20.789Z</LastModified></Contents>\
                    <Contents><Key>no-size</Key></Contents>\
                    <Contents><Key>bad</Key><Size>-1</Size></Contents>\
                    <CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>\
                    <CommonPrefixes><Prefix>e/</Prefix></CommonPrefixes>\
                    </ListBucketResult>";
        let page = objects_page(&parse(body).unwrap()).unwrap();
        assert_eq!(
            page.objects[0],
            Ok(ListedObject {
                key: "a & b".into(),
                size: Some(3),
                etag: Some("\"e\"".into()),
                last_modified: Some("2023-11-14T22:13:20.789Z".into()),
            })
        );
        assert_eq!(page.objects[1].as_ref().map(|o| o.size), Ok(None));
        assert!(matches!(&page.objects[2], Err((key, _)) if key == "bad"));
        assert_eq!(page.prefixes, ["d/", "e/"]);
        assert_eq!(page.next.as_deref(), Some("t&2"));
        for (bad, why) in [
            (
                "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
                "truncated without a token",
            ),
            (
                "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
                "an object without a key",
            ),
        ] {
            assert!(objects_page(&parse(bad).unwrap()).is_err(), "{why}");
        }
        let last = "<ListBucketResult><IsTruncated>false</IsTruncated>\
                    <NextContinuationToken>stale</NextContinuationToken></ListBucketResult>";
        assert_eq!(objects_page(&parse(last).unwrap()).unwrap().next, None);
    }

    #[test]
    fn parts_pages() {
        let body = "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                    <Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>\
                    <PartNumberMarker>0</PartNumberMarker>\
                    <NextPartNumberMarker>2</NextPartNumberMarker>\
                    <IsTruncated>true</IsTruncated>\
                    <Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag>\
                    <Size>5242880</Size></Part>\
                    <Part><PartNumber>2</PartNumber><ETag>\"bb\"</ETag><Size>7</Size></Part>\
                    </ListPartsResult>";
        let page = parts_page(&parse(body).unwrap()).unwrap();
        assert_eq!(
            page.parts,
            [
                StoredPart {
                    number: 1,
                    etag: "aa".into(),
                    size: 5_242_880
                },
                StoredPart {
                    number: 2,
                    etag: "bb".into(),
                    size: 7
                },
            ]
        );
        assert_eq!(page.next, Some(2));
        let last = "<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>";
        // moto names the root `ListPartsResponse`.
        assert!(matches!(
            parse_doc(
                "<ListPartsResponse><IsTruncated>false</IsTruncated></ListPartsResponse>",
                "ListPartsResult"
            ),
            Ok(Doc::Result(_))
        ));
        assert!(parse_doc("<ListPartsOther/>", "ListPartsResult").is_err());
        assert_eq!(
            parts_page(&parse(last).unwrap()).unwrap(),
            PartsPage::default()
        );
        let no_etag = "<ListPartsResult><Part><PartNumber>1</PartNumber><Size>1</Size></Part>\
                       </ListPartsResult>";
        assert_eq!(
            parts_page(&parse(no_etag).unwrap()).unwrap(),
            PartsPage::default()
        );
        for bad in [
            "<ListPartsResult><Part><ETag>x</ETag><Size>1</Size></Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>0</PartNumber><ETag>x</ETag><Size>1</Size>\
             </Part></ListPartsResult>",
            "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>x</ETag><Size>-1</Size>\
             </Part></ListPartsResult>",
            "<ListPartsResult><IsTruncated>true</IsTruncated></ListPartsResult>",
            "<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>1\
             </NextPartNumberMarker><Part><PartNumber>5</PartNumber><ETag>x</ETag>\
             <Size>1</Size></Part></ListPartsResult>",
        ] {
            assert!(parts_page(&parse(bad).unwrap()).is_err(), "{bad}");
        }
    }
}
