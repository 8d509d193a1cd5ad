import Foundation
import PartnerCore
import Postgres

/// Writes an `Encodable` answer straight into JSON bytes, in the API's conventions:
/// snake_case keys, keys under free-form properties (`spec`, `data`, `details`) as the client
/// wrote them, ISO 8601 dates with milliseconds, and `jsonb` text passed through as it came
/// from PostgreSQL.
///
/// Foundation's `JSONEncoder` builds a tree of boxed values first, calls a custom key
/// strategy with a freshly built coding path for every key, and a resource's `spec` had to
/// be parsed from its jsonb text only to be written out again. On the buy path that made
/// the encoder the server's largest cost; this one appends each value as `encode(to:)`
/// produces it.
///
/// Containers are closed when the value that opened them is done, or when their parent
/// writes its next element; that is all the synthesized and hand-written `Encodable`
/// conformances of this project need. Keys are written in the order they are encoded.
enum JSONStreamEncoder {
    static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let writer = JSONStreamWriter()
        try writer.writeValue(value, freeForm: false)
        writer.close(downTo: 0)
        return Data(writer.bytes)
    }
}

/// The encoder's state: the bytes so far and the stack of open objects and arrays.
final class JSONStreamWriter: Encoder {
    fileprivate struct Frame {
        var isObject: Bool
        var count: Int
        /// Keys in this container (and below) belong to the client.
        var freeForm: Bool
    }

    fileprivate(set) var bytes: [UInt8] = []
    private var stack: [Frame] = []
    /// The stack depth at which the value being encoded started, so a second call to
    /// `container(keyedBy:)` for the same value reuses the object it opened.
    private var valueDepth = 0
    private var freeForm = false
    /// The writer of a `superEncoder()` value, spliced in at the next element or close.
    private var pendingChild: JSONStreamWriter?

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init() {
        bytes.reserveCapacity(512)
    }

    // MARK: Values

    func writeValue<Value: Encodable>(_ value: Value, freeForm: Bool) throws {
        // One conformance lookup sorts out every plain value (the runtime caches it per
        // type); a chain of `as?` casts cost two dozen failed casts for each struct and enum.
        if let plain = value as? any JSONStreamPlainValue {
            try plain.write(to: self, freeForm: freeForm)
            return
        }
        let (savedDepth, savedFreeForm) = (valueDepth, self.freeForm)
        valueDepth = stack.count
        self.freeForm = freeForm
        defer { (valueDepth, self.freeForm) = (savedDepth, savedFreeForm) }
        let start = bytes.count
        try value.encode(to: self)
        close(downTo: valueDepth)
        // A value that encoded nothing at all is an empty object, as with JSONEncoder.
        if bytes.count == start { writeRaw("{}") }
    }

    fileprivate func writeDictionary<Element: Encodable>(_ dictionary: [String: Element], freeForm: Bool) throws {
        let depth = open(isObject: true, freeForm: freeForm)
        for key in dictionary.keys.sorted() {
            let valueIsFreeForm = beginMember(key, at: depth, verbatim: true)
            try writeValue(dictionary[key]!, freeForm: valueIsFreeForm)
        }
        close(downTo: depth - 1)
    }

    func writeRaw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    func writeDouble(_ number: Double) throws {
        guard let text = JSONText.number(number) else {
            throw EncodingError.invalidValue(number, .init(codingPath: [], debugDescription: "\(number) is not a JSON number"))
        }
        writeRaw(text)
    }

    func writeString(_ text: String) {
        JSONText.appendString(text, to: &bytes)
    }

    func writeDate(_ date: Date) {
        bytes.append(UInt8(ascii: "\""))
        ISO8601Timestamp.append(date, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    // MARK: Containers

    /// Opens an object or array whose keys (and everything below) are the client's when
    /// `freeForm`; returns its depth.
    fileprivate func open(isObject: Bool, freeForm: Bool) -> Int {
        bytes.append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
        stack.append(Frame(isObject: isObject, count: 0, freeForm: freeForm))
        return stack.count
    }

    /// Closes every container deeper than `depth`.
    func close(downTo depth: Int) {
        if let child = pendingChild {
            pendingChild = nil
            child.close(downTo: 0)
            bytes.append(contentsOf: child.bytes.isEmpty ? Array("{}".utf8) : child.bytes)
        }
        while stack.count > depth {
            let frame = stack.removeLast()
            bytes.append(frame.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    /// Starts the next element of the container at `depth`; returns whether its keys (and
    /// everything below) are the client's.
    fileprivate func beginElement(at depth: Int) -> Bool {
        precondition(stack.count >= depth, "an Encodable wrote to a container after its parent moved on")
        close(downTo: depth)
        if stack[depth - 1].count > 0 { bytes.append(UInt8(ascii: ",")) }
        stack[depth - 1].count += 1
        return stack[depth - 1].freeForm
    }

    /// Starts a member of the object at `depth`: writes its key; returns whether the
    /// member's value is free-form.
    fileprivate func beginMember(_ key: String, at depth: Int, verbatim: Bool = false) -> Bool {
        let inFreeForm = beginElement(at: depth)
        writeString(inFreeForm || verbatim ? key : JSONCoding.snakeNames.name(for: key))
        bytes.append(UInt8(ascii: ":"))
        return inFreeForm || JSONCoding.freeFormKeys.contains(key)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        // The same value asking again (a conformance that splits its encoding): reuse.
        if stack.count > valueDepth, stack[valueDepth].isObject {
            close(downTo: valueDepth + 1)
            return KeyedEncodingContainer(KeyedWriter<Key>(writer: self, depth: valueDepth + 1))
        }
        return KeyedEncodingContainer(KeyedWriter<Key>(writer: self, depth: open(isObject: true, freeForm: freeForm)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if stack.count > valueDepth, !stack[valueDepth].isObject {
            close(downTo: valueDepth + 1)
            return UnkeyedWriter(writer: self, depth: valueDepth + 1, count: stack[valueDepth].count)
        }
        return UnkeyedWriter(writer: self, depth: open(isObject: false, freeForm: freeForm))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueWriter(writer: self, freeForm: freeForm)
    }
}

private struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONStreamWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil(forKey key: Key) throws {
        _ = writer.beginMember(key.stringValue, at: depth)
        writer.writeRaw("null")
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let freeForm = writer.beginMember(key.stringValue, at: depth)
        try writer.writeValue(value, freeForm: freeForm)
    }

    // Strings, flags and counts, the members most answers are made of, go straight to their
    // plain writers, without the generic path's boxing and conformance lookup.
    mutating func encode(_ value: String, forKey key: Key) throws { try encodePlain(value, forKey: key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try encodePlain(value, forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try encodePlain(value, forKey: key) }

    private func encodePlain(_ value: some JSONStreamPlainValue, forKey key: Key) throws {
        _ = writer.beginMember(key.stringValue, at: depth)
        try value.write(to: writer, freeForm: false)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let freeForm = writer.beginMember(key.stringValue, at: depth)
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(writer: writer, depth: writer.open(isObject: true, freeForm: freeForm)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let freeForm = writer.beginMember(key.stringValue, at: depth)
        return UnkeyedWriter(writer: writer, depth: writer.open(isObject: false, freeForm: freeForm))
    }

    mutating func superEncoder() -> any Encoder {
        _ = writer.beginMember("super", at: depth)
        return writer.pendingValueEncoder()
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        _ = writer.beginMember(key.stringValue, at: depth)
        return writer.pendingValueEncoder()
    }
}

private struct UnkeyedWriter: UnkeyedEncodingContainer {
    let writer: JSONStreamWriter
    let depth: Int
    var codingPath: [any CodingKey] { [] }
    private(set) var count = 0

    init(writer: JSONStreamWriter, depth: Int, count: Int = 0) {
        self.writer = writer
        self.depth = depth
        self.count = count
    }

    mutating func encodeNil() throws {
        _ = writer.beginElement(at: depth)
        count += 1
        writer.writeRaw("null")
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let freeForm = writer.beginElement(at: depth)
        count += 1
        try writer.writeValue(value, freeForm: freeForm)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let freeForm = writer.beginElement(at: depth)
        count += 1
        return KeyedEncodingContainer(KeyedWriter<NestedKey>(writer: writer, depth: writer.open(isObject: true, freeForm: freeForm)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let freeForm = writer.beginElement(at: depth)
        count += 1
        return UnkeyedWriter(writer: writer, depth: writer.open(isObject: false, freeForm: freeForm))
    }

    mutating func superEncoder() -> any Encoder {
        _ = writer.beginElement(at: depth)
        count += 1
        return writer.pendingValueEncoder()
    }
}

private struct SingleValueWriter: SingleValueEncodingContainer {
    let writer: JSONStreamWriter
    let freeForm: Bool
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { writer.writeRaw("null") }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try writer.writeValue(value, freeForm: freeForm)
    }
}

extension JSONStreamWriter {
    /// `superEncoder()`: the member's value is written by a writer of its own and spliced in
    /// before this writer writes anything else.
    fileprivate func pendingValueEncoder() -> any Encoder {
        let child = JSONStreamWriter()
        child.freeForm = freeForm
        pendingChild = child
        return child
    }
}

/// The values the writer writes itself: every type a single-value container takes (so none
/// of them comes back through its own `encode(to:)`), the Foundation types JSONEncoder
/// writes as plain values, jsonb text, and String-keyed dictionaries.
private protocol JSONStreamPlainValue {
    func write(to writer: JSONStreamWriter, freeForm: Bool) throws
}

extension String: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { writer.writeString(self) }
}
extension PostgresJSON: JSONStreamPlainValue {
    /// Passed through: PostgreSQL's jsonb output is already JSON.
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { writer.writeRaw(text) }
}
extension Date: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { writer.writeDate(self) }
}
extension UUID: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { writer.writeString(lowercasedString) }
}
extension EntityID: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { uuid.write(to: writer, freeForm: freeForm) }
}
extension Bool: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { writer.writeRaw(self ? "true" : "false") }
}
extension Double: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) throws { try writer.writeDouble(self) }
}
extension Float: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) throws { try writer.writeDouble(Double(self)) }
}
extension Decimal: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { writer.writeRaw(description) }
}
extension URL: JSONStreamPlainValue {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { writer.writeString(absoluteString) }
}

/// Integers in their decimal form.
private protocol JSONStreamInteger: JSONStreamPlainValue, BinaryInteger {}
extension JSONStreamInteger {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) { writer.writeRaw(String(self)) }
}
extension Int: JSONStreamInteger {}
extension Int8: JSONStreamInteger {}
extension Int16: JSONStreamInteger {}
extension Int32: JSONStreamInteger {}
extension Int64: JSONStreamInteger {}
extension Int128: JSONStreamInteger {}
extension UInt: JSONStreamInteger {}
extension UInt8: JSONStreamInteger {}
extension UInt16: JSONStreamInteger {}
extension UInt32: JSONStreamInteger {}
extension UInt64: JSONStreamInteger {}
extension UInt128: JSONStreamInteger {}

/// String-keyed dictionaries, as JSONEncoder wrote them: keys verbatim (they are data, not
/// property names) and sorted, so an answer's bytes do not depend on the process's hash seed.
extension Dictionary: JSONStreamPlainValue where Key == String, Value: Encodable {
    fileprivate func write(to writer: JSONStreamWriter, freeForm: Bool) throws {
        try writer.writeDictionary(self, freeForm: freeForm)
    }
}
