import ALMAggregation
import Foundation

/// Bar charts of a work's `byMonth` numbers: one bar per month from the work's first month with any
/// attention to its last, months without any shown as empty bars, so gaps stay visible. All categories
/// share that range, so charts of one work line up. A range longer than `maxMonthlyBars` months is
/// charted per year instead. Month keys that are not `YYYY-MM` are ignored.
///
/// Standalone SVG 1.1 roots (no XML declaration) carrying `class="chart"` and `data-category`, so they
/// can be inlined into HTML and found by a browser test. Each bar is `<rect class="bar">` with a
/// `<title>` "2026-01: 12". Coordinates have two decimals: the same input gives the same bytes.
public enum MonthlyChartSVG {
    static let maxMonthlyBars = 240

    public static func svg(byMonth: [String: [Category: UInt64]], category: Category, width: Int = 480, height: Int = 140) -> String {
        let width = max(width, 160), height = max(height, 80)
        let timeline = Timeline(byMonth)
        var svg = root(width: width, height: height, attributes: #"class="chart" data-category="\#(category.rawValue)""#)
        svg += "<title>\(Markup.escape(description(of: timeline, category: category)))</title>"
        svg += panel(timeline, category: category, width: Double(width), height: Double(height), top: 0)
        return svg + "</svg>"
    }

    /// The five categories stacked, one panel of `panelHeight` each, over the same range.
    public static func smallMultiples(byMonth: [String: [Category: UInt64]], width: Int = 480, panelHeight: Int = 110) -> String {
        let width = max(width, 160), panelHeight = max(panelHeight, 80)
        let timeline = Timeline(byMonth)
        var svg = root(width: width, height: panelHeight * Category.allCases.count, attributes: #"class="chart small-multiples""#)
        let descriptions = Category.allCases.map { description(of: timeline, category: $0) }
        svg += "<title>\(Markup.escape(descriptions.joined(separator: "; ")))</title>"
        for (index, category) in Category.allCases.enumerated() {
            svg += #"<g class="panel" data-category="\#(category.rawValue)">"#
            svg += panel(timeline, category: category, width: Double(width), height: Double(panelHeight), top: Double(index * panelHeight))
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    private static func root(width: Int, height: Int, attributes: String) -> String {
        #"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" \#(attributes) width="\#(width)" height="\#(height)""#
            + #" viewBox="0 0 \#(width) \#(height)" font-family="Helvetica, Arial, sans-serif" font-size="11" fill="\#(Palette.text)">"#
    }

    private static func description(of timeline: Timeline?, category: Category) -> String {
        let title = heading(timeline, category)
        guard let timeline, timeline.total(category) > 0 else { return title + ": no data" }
        let count = timeline.labels.count
        return "\(title), \(timeline.labels[0]) to \(timeline.labels[count - 1]) (\(count) \(timeline.unit)\(count == 1 ? "" : "s")): "
            + "\(timeline.total(category)) in total"
    }

    private static func heading(_ timeline: Timeline?, _ category: Category) -> String {
        Markup.displayName(category) + " per " + (timeline?.unit ?? "month")
    }

    /// Where a panel draws, in the SVG's units.
    struct Layout {
        static let left = 48.0, right = 8.0, headingHeight = 22.0, axisLabelHeight = 20.0

        let plotLeft: Double, plotRight: Double, plotTop: Double, plotBottom: Double

        init(width: Double, height: Double, top: Double) {
            plotLeft = Self.left
            plotRight = width - Self.right
            plotTop = top + Self.headingHeight
            plotBottom = top + height - Self.axisLabelHeight
        }

        var plotHeight: Double { plotBottom - plotTop }
    }

    private static func panel(_ timeline: Timeline?, category: Category, width: Double, height: Double, top: Double) -> String {
        let layout = Layout(width: width, height: height, top: top)
        var svg = text(heading(timeline, category), x: 4, y: top + 14, anchor: "start", extra: #" font-size="12" font-weight="bold""#)
        guard let timeline, timeline.total(category) > 0 else {
            return svg + text("no data", x: width / 2, y: (layout.plotTop + layout.plotBottom) / 2, anchor: "middle",
                              extra: #" class="no-data" fill="\#(Palette.axis)""#)
        }

        let values = timeline.values[category]!
        let highest = values.max()!
        svg += text(String(highest), x: layout.plotLeft - 4, y: layout.plotTop + 8, anchor: "end", extra: #" class="y-max""#)
        svg += text("0", x: layout.plotLeft - 4, y: layout.plotBottom, anchor: "end", extra: "")
        svg += #"<line x1="\#(fixed(layout.plotLeft))" y1="\#(fixed(layout.plotBottom))" x2="\#(fixed(layout.plotRight))""#
            + #" y2="\#(fixed(layout.plotBottom))" stroke="\#(Palette.axis)" stroke-width="1"/>"#

        let slot = (layout.plotRight - layout.plotLeft) / Double(values.count)
        let gap = slot >= 4 ? 1.0 : 0
        svg += #"<g fill="\#(Palette.colour(category))">"#
        for (index, value) in values.enumerated() {
            let barHeight = Double(value) / Double(highest) * layout.plotHeight
            svg += #"<rect class="bar" x="\#(fixed(layout.plotLeft + Double(index) * slot + gap / 2))""#
                + #" y="\#(fixed(layout.plotBottom - barHeight))" width="\#(fixed(slot - gap))" height="\#(fixed(barHeight))">"#
                + "<title>\(timeline.labels[index]): \(value)</title></rect>"
        }
        svg += "</g>"

        let labelY = layout.plotBottom + 14
        svg += text(timeline.labels[0], x: layout.plotLeft, y: labelY, anchor: "start", extra: #" class="x-label""#)
        if values.count > 1 {
            svg += text(timeline.labels[values.count - 1], x: layout.plotRight, y: labelY, anchor: "end", extra: #" class="x-label""#)
        }
        return svg
    }

    private static func text(_ content: String, x: Double, y: Double, anchor: String, extra: String) -> String {
        #"<text x="\#(fixed(x))" y="\#(fixed(y))" text-anchor="\#(anchor)"\#(extra)>\#(Markup.escape(content))</text>"#
    }

    private static func fixed(_ value: Double) -> String { Markup.fixed(value, decimals: 2) }

    /// The bins of a chart: every month (or year) from the first with attention to the last.
    struct Timeline {
        /// "month" or "year".
        let unit: String
        /// `YYYY-MM` or `YYYY`, one per bin.
        let labels: [String]
        /// category → one value per bin.
        let values: [Category: [UInt64]]

        /// Nil when no valid month has a non-zero value.
        init?(_ byMonth: [String: [Category: UInt64]]) {
            let months = byMonth.compactMap { key, counts -> (index: Int, counts: [Category: UInt64])? in
                guard let index = Self.monthIndex(key), counts.values.contains(where: { $0 > 0 }) else { return nil }
                return (index, counts)
            }
            guard let first = months.map(\.index).min(), let last = months.map(\.index).max() else { return nil }

            let byYear = last - first + 1 > MonthlyChartSVG.maxMonthlyBars
            let bin: (Int) -> Int = byYear ? { $0 / 12 - first / 12 } : { $0 - first }
            let binCount = bin(last) + 1
            unit = byYear ? "year" : "month"
            labels = (0..<binCount).map { offset in
                byYear ? Self.padded(first / 12 + offset, 4) : Self.padded((first + offset) / 12, 4) + "-" + Self.padded((first + offset) % 12 + 1, 2)
            }
            var values = Dictionary(uniqueKeysWithValues: Category.allCases.map { ($0, [UInt64](repeating: 0, count: binCount)) })
            for month in months {
                for (category, value) in month.counts {
                    values[category]![bin(month.index)] = Self.saturatingSum(values[category]![bin(month.index)], value)
                }
            }
            self.values = values
        }

        func total(_ category: Category) -> UInt64 {
            values[category]!.reduce(0, Self.saturatingSum)
        }

        private static func saturatingSum(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let sum = a.addingReportingOverflow(b)
            return sum.overflow ? .max : sum.partialValue
        }

        /// `YYYY-MM` → months since 0000-01; nil for anything else.
        static func monthIndex(_ key: String) -> Int? {
            let bytes = Array(key.utf8)
            guard bytes.count == 7, bytes[4] == UInt8(ascii: "-") else { return nil }
            let digits = bytes[0..<4] + bytes[5..<7]
            guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
            let year = Int(key.prefix(4))!, month = Int(key.suffix(2))!
            guard (1...12).contains(month) else { return nil }
            return year * 12 + month - 1
        }

        private static func padded(_ number: Int, _ width: Int) -> String {
            let digits = String(number)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
    }
}
