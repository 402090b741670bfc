extension StreamReport {
    /// Prequential accuracy over the stream drawn as lines (SVG): windowed accuracy
    /// (solid) and overall accuracy (dashed) against samples streamed; experiences as
    /// alternating shaded bands labelled `E0`, `E1`, …; each growth event as a red vertical
    /// line labelled with its hidden layer and number of detectors (`L1: 12 det.`).
    public func prequentialSVG() -> String {
        let series = prequential.series
        let maxSamples = Double(max(prequential.samples, series.last?.samples ?? 0,
                                    growthEvents.map(\.sampleIndex).max() ?? 0, 1))
        let width = 960.0, plotHeight = 300.0, left = 64.0, right = 24.0

        // Growth labels go above the plot, in as many rows as needed so they never overlap.
        let labelSize = 11.0
        let xScale = (width - left - right) / maxSamples
        var rowEnds: [Double] = []
        var placed: [(event: GrowthEvent, x: Double, labelX: Double, row: Int)] = []
        for event in growthEvents.sorted(by: { $0.sampleIndex < $1.sampleIndex }) {
            let x = left + Double(event.sampleIndex) * xScale
            let labelWidth = Double(event.label.count) * labelSize * 0.62 + 6
            let labelX = min(max(x, labelWidth / 2 + 4), width - labelWidth / 2 - 4)
            let start = labelX - labelWidth / 2
            let row = rowEnds.firstIndex { $0 <= start } ?? rowEnds.count
            if row == rowEnds.count { rowEnds.append(0) }
            rowEnds[row] = labelX + labelWidth / 2
            placed.append((event, x, labelX, row))
        }
        let top = 52 + 16 * Double(rowEnds.count)
        let height = top + plotHeight + 70
        let bottom = top + plotHeight
        func xOf(_ samples: Double) -> Double { left + samples * xScale }
        func yOf(_ accuracy: Double) -> Double { bottom - accuracy * plotHeight }

        var canvas = SVGCanvas(width: width, height: height)
        canvas.text("Prequential accuracy: \(scenario) (seed \(seed))", x: 16, y: 26, size: 17, weight: "bold")

        // Experience bands.
        let boundaries = prequential.experiences
        for (k, boundary) in boundaries.enumerated() {
            let start = Double(boundary.samples)
            let end = k + 1 < boundaries.count ? Double(boundaries[k + 1].samples) : maxSamples
            guard end > start else { continue }
            canvas.rect(x: xOf(start), y: top, width: (end - start) * xScale, height: plotHeight,
                        fill: k.isMultiple(of: 2) ? "#f1f4f8" : "#e2e8f0")
            canvas.text("E\(boundary.experience)", x: xOf(start) + 4, y: bottom - 6, size: 11, fill: "#556070")
        }

        // Grid and axes.
        for v in stride(from: 0.0, through: 1.0, by: 0.2) {
            canvas.line(x1: left, y1: yOf(v), x2: width - right, y2: yOf(v), stroke: "#c8ccd2", width: 0.6)
            canvas.centredText(formatAccuracy(v), x: left - 8, y: yOf(v), size: 11, anchor: .end)
        }
        for t in ChartText.ticks(upTo: maxSamples) {
            canvas.line(x1: xOf(t), y1: bottom, x2: xOf(t), y2: bottom + 5, stroke: "#444444")
            canvas.text(ChartText.count(t), x: xOf(t), y: bottom + 18, size: 11, anchor: .middle)
        }
        canvas.rect(x: left, y: top, width: width - left - right, height: plotHeight, fill: "none", stroke: "#444444")
        canvas.text("samples streamed", x: left + (width - left - right) / 2, y: bottom + 38, size: 12, anchor: .middle)
        canvas.text("prequential accuracy", x: 18, y: top + plotHeight / 2, size: 12, anchor: .middle, rotate: -90)

        // Curves.
        if series.isEmpty {
            canvas.centredText("no samples scored", x: left + (width - left - right) / 2, y: top + plotHeight / 2, size: 14)
        }
        canvas.polyline(series.map { (xOf(Double($0.samples)), yOf($0.overall)) }, stroke: "#7a7a7a", width: 1.5, dash: "5 4")
        canvas.polyline(series.map { (xOf(Double($0.samples)), yOf($0.windowed)) }, stroke: "#1f5fa8", width: 2)
        if series.count <= 40 {
            // Few points: mark them, so that a single batch is visible at all.
            for point in series {
                canvas.circle(x: xOf(Double(point.samples)), y: yOf(point.windowed), radius: 2.5, fill: "#1f5fa8")
            }
        }

        // Growth events.
        for (event, x, labelX, row) in placed {
            canvas.line(x1: x, y1: top, x2: x, y2: bottom, stroke: "#c0392b", width: 1.2, dash: "3 2")
            canvas.text(event.label, x: labelX, y: top - 6 - 16 * Double(row), size: labelSize,
                        anchor: .middle, fill: "#c0392b")
        }

        // Legend.
        let legendY = height - 14
        var legendX = left
        canvas.line(x1: legendX, y1: legendY - 4, x2: legendX + 24, y2: legendY - 4, stroke: "#1f5fa8", width: 2)
        canvas.text("windowed (last \(prequential.windowSize) samples)", x: legendX + 30, y: legendY, size: 11)
        legendX += 250
        canvas.line(x1: legendX, y1: legendY - 4, x2: legendX + 24, y2: legendY - 4, stroke: "#7a7a7a", width: 1.5, dash: "5 4")
        canvas.text("overall", x: legendX + 30, y: legendY, size: 11)
        legendX += 100
        guard !growthEvents.isEmpty else { return canvas.document }
        canvas.line(x1: legendX, y1: legendY - 10, x2: legendX, y2: legendY + 2, stroke: "#c0392b", width: 1.2, dash: "3 2")
        canvas.text("growth: Lk = hidden layer k (from 0), detectors used", x: legendX + 8, y: legendY, size: 11)
        return canvas.document
    }
}
