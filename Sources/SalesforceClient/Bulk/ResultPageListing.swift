import Logging

/// A job's `resultPages` listing, read one answer at a time, so the pages it names can be downloading while the
/// rest of the listing is still being read (an org lists a few pages per answer, and a big job has thousands).
///
/// Used by one thread at a time (handed from the caller to a lister thread once), hence `@unchecked Sendable`.
public final class ResultPageListing: @unchecked Sendable {
    public let jobId: String
    let expectedRecords: Int?
    let maxRecords: Int?
    private var target: String?
    private var first: String?
    private var seenLinks: Set<String> = []
    private var seenTargets: Set<String> = []
    private(set) public var linkCount = 0
    /// Every answer has been read: ``next(using:)`` returns nil.
    public var isDone: Bool { target == nil && first != nil }

    public init(jobId: String, maxRecords: Int?, expectedRecords: Int?) {
        self.jobId = jobId
        self.maxRecords = maxRecords
        self.expectedRecords = expectedRecords
    }

    /// The links of the listing's next answer, following its next-page link; nil once done. On the first call nil
    /// also means the org does not offer the listing (API below 58.0, a 400/404/405/410, or an answer that is no
    /// listing): use the locator chain then.
    /// - Throws: `.incompleteResults` when the listing repeats a next-page URL or a link, or has too many links.
    public func next(using client: SalesforceClient) throws -> [String]? {
        if first == nil {
            // The resource exists from API 58.0 on; an older version would only earn a 404 per run.
            if let version = Double(client.configuration.apiVersion), version < 58 { return nil }
            let query = maxRecords.map { [("maxRecords", String($0))] } ?? []
            let url = APIRequest.path("\(client.dataPath)/jobs/query/\(jobId)/resultPages", query: query)
            first = url
            target = url
            seenTargets = [url]
        }
        guard let current = target else { return nil }
        let isFirst = current == first && linkCount == 0
        let response: HTTPResponse
        do {
            response = try client.send(APIRequest(method: .get, target: .instance(current), purpose: .control))
        } catch let error as SalesforceError where isFirst && Self.meansNoListing(error) {
            client.logger.debug(
                "resultPages not available; use the locator chain",
                metadata: ["sf.job": "\(jobId)", "http.status": .stringConvertible(error.httpStatus ?? 0)])
            target = nil
            return nil
        }
        guard let answer = try? LenientJSON.decode(ResultPagesAnswer.self, from: response.body, what: "resultPages")
        else {
            // Not the documented listing: only the first answer may be ignored that way.
            guard isFirst else {
                throw SalesforceError(
                    code: .protocolViolation,
                    message: "Salesforce sent a resultPages answer without a resultPages list for job \(jobId).")
            }
            client.logger.debug("resultPages answered without a listing; use the locator chain", metadata: ["sf.job": "\(jobId)"])
            target = nil
            return nil
        }
        var links: [String] = []
        for link in answer.links {
            // Checked on arrival (and again when sent): a link off the instance would carry the token away.
            try client.checkResponseURL(link, what: "a result page link of job \(jobId)")
            guard seenLinks.insert(link).inserted else { throw refuse("repeats the link \(link)") }
            links.append(link)
            linkCount += 1
            if let expectedRecords, linkCount > max(expectedRecords, 1) {
                throw refuse("lists more pages than the job's \(expectedRecords) records can fill")
            }
        }
        let next = answer.next
        target = (answer.done ?? (next == nil)) || next == nil || next == "null" || next == "" ? nil : next
        if let target { try client.checkResponseURL(target, what: "the next resultPages URL of job \(jobId)") }
        if let target, !seenTargets.insert(target).inserted {
            throw refuse("points back to a listing it already sent (\(target))")
        }
        return links
    }

    /// Be liberal: an org or proxy without the resource may refuse it with 400, 404, 405 or 410 (UNCONFIRMED
    /// which); the locator chain reads the same results.
    private static func meansNoListing(_ error: SalesforceError) -> Bool {
        error.code == .http && [400, 404, 405, 410].contains(error.httpStatus ?? 0)
    }

    private func refuse(_ what: String) -> SalesforceError {
        SalesforceError(
            code: .incompleteResults,
            message: "The result page listing of job \(jobId) \(what) after \(linkCount) links; refusing it.")
    }
}

/// One answer of `GET …/resultPages`. The key names are UNCONFIRMED (the docs spell them two ways each), so both
/// spellings are read: `resultLink`/`resultUrl`, `nextRecordsUrl`/`nextRecordUrl`. A body without a
/// `resultPages` list is no listing at all (the decoding fails); an entry without a link is skipped.
struct ResultPagesAnswer: Decodable {
    var links: [String]
    var next: String?
    var done: Bool?

    private struct Page: Decodable {
        var link: String

        init(from decoder: any Decoder) throws {
            let json = try decoder.container(keyedBy: AnyKey.self)
            guard let link = json.lenientString(AnyKey("resultLink")) ?? json.lenientString(AnyKey("resultUrl")) else {
                throw DecodingError.keyNotFound(
                    AnyKey("resultLink"), .init(codingPath: decoder.codingPath, debugDescription: "no link"))
            }
            self.link = link
        }
    }

    init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: AnyKey.self)
        links = try json.decode([Lenient<Page>].self, forKey: AnyKey("resultPages")).compactMap { $0.value?.link }
        next = json.lenientString(AnyKey("nextRecordsUrl")) ?? json.lenientString(AnyKey("nextRecordUrl"))
        done = json.lenientBool(AnyKey("done"))
    }
}
