// SampleCharts.swift — the charts compare-levels draws, with made-up but realistic data, used by
// the tests and by the gallery test that writes them to a folder for a human to look at:
//
//     CHARTS_SAMPLE_DIR=/tmp/chart-samples swift test --scratch-path .build-charts \
//         -c release -Xswiftc -enable-testing --filter ChartsTests.Gallery

import Charts
import Foundation
import Testing

/// A tiny deterministic generator (SplitMix64), so sample charts are the same on every run.
struct SampleGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

enum Samples {
    static let levelNames = ["Level 1 · fit", "Level 2 · modules", "Level 3 · autograd", "Level 4 · manual"]

    /// Train loss per epoch for the four levels: bitwise identical, as they should be.
    static let trainLoss: [Double] = [0.6213, 0.4212, 0.3804, 0.3556, 0.3371, 0.3229, 0.3107, 0.3003, 0.2911, 0.2829]
    static let testLoss = [0.4803, 0.4365, 0.4102, 0.3921, 0.3855, 0.3702, 0.3689, 0.3611, 0.3587, 0.3541]

    static func loss() -> LineChart {
        LineChart(
            title: "Training loss per epoch — all four levels", xLabel: "epoch", yLabel: "mean cross-entropy",
            series: levelNames.enumerated().map { index, name in
                // "Identical-ish": the levels differ by float rounding only (~1e-7).
                LineSeries(name: name, values: trainLoss.map { $0 + 1e-7 * Double(index) })
            })
    }

    /// Train (solid family) and test loss for every level: eight series, two legend columns' worth.
    static func trainAndTestLoss() -> LineChart {
        var series: [LineSeries] = []
        for name in levelNames {
            series.append(LineSeries(name: "\(name) train", values: trainLoss, marker: .circle))
        }
        for (i, name) in levelNames.enumerated() {
            series.append(LineSeries(
                name: "\(name) test", values: testLoss, color: Color.palette(i),
                dash: [DashStyle.solid, .dashed, .dotted, .dashDot][i], marker: .square))
        }
        return LineChart(
            title: "Train and test loss", xLabel: "epoch", yLabel: "mean cross-entropy", series: series)
    }

    /// Per-step |loss − Level 4|: Level 3 exactly 0, Level 2 tiny rounding differences with a
    /// gap (NaN) and some exact zeros, Level 1 drifting; a tolerance line.
    static func agreement() -> LineChart {
        var generator = SampleGenerator(state: 7)
        let steps = 1...600
        let identical = steps.map { (x: Double($0), y: 0.0) }
        let rounding: [(x: Double, y: Double)] = steps.map { step in
            if (200...230).contains(step) { return (Double(step), .nan) }
            if step % 50 == 0 { return (Double(step), 0) }
            return (Double(step), 3e-8 * (0.3 + generator.unit()))
        }
        let drifting = steps.map { (x: Double($0), y: 1e-7 * pow(1.012, Double($0)) * (0.5 + generator.unit())) }
        return LineChart(
            title: "Agreement with Level 4 (per-step batch loss)", xLabel: "training step",
            yLabel: "|loss − loss₄|", yScale: .logarithmic,
            series: [
                LineSeries(name: "Level 1 (perturbed lr)", points: drifting),
                LineSeries(name: "Level 2", points: rounding),
                LineSeries(name: "Level 3", points: identical),
            ],
            annotations: [
                .zeroBand(label: "bitwise identical (difference 0)"),
                .referenceLine(ReferenceLine(value: 1e-5, label: "tolerance 1e-5", color: Color(hex: 0xC0392B))),
                .note("Level 3: all 600 steps bitwise identical"),
            ])
    }

    /// The expected case: every level identical, so every difference is 0.
    static func agreementIdentical() -> LineChart {
        LineChart(
            title: "Agreement with Level 4 (per-step batch loss)", xLabel: "training step",
            yLabel: "|loss − loss₄|", yScale: .logarithmic,
            series: levelNames.prefix(3).map { LineSeries(name: $0, points: (1...938).map { (Double($0), 0) }) },
            annotations: [
                .zeroBand(label: "bitwise identical (difference 0)"),
                .referenceLine(ReferenceLine(value: 1e-5, label: "tolerance (relative 1e-5)", color: Color(hex: 0xC0392B))),
            ],
            yRange: 1e-9...1e-3)
    }

    static func throughput() -> BarChart {
        let values = [38_412.0, 44_905, 47_310, 52_877]
        let ceiling = 71_250.0
        return BarChart(
            title: "Training throughput (Fashion-MNIST, batch 64)", yLabel: "samples per second",
            bars: zip(levelNames, values).map { name, value in
                Bar(label: name, value: value, valueText: "\(Int(value).formatted()) (\(Int((100 * value / ceiling).rounded())) %)")
            },
            referenceLine: ReferenceLine(value: ceiling, label: "BLAS ceiling 71,250 /s"))
    }

    /// Edge cases of a bar chart: a negative value, a missing one, a long label.
    static func oddBars() -> BarChart {
        BarChart(
            title: "Odd values", yLabel: "value",
            bars: [
                Bar(label: "positive", value: 3, color: Color(hex: 0x123456)),
                Bar(label: "negative", value: -2),
                Bar(label: "missing", value: .nan),
                Bar(label: "a rather long label that has to wrap onto two lines", value: 1.5),
            ])
    }

    /// A log chart with nothing it can place on the axis, and no zero band.
    static func noPositiveValues() -> LineChart {
        LineChart(
            title: "Nothing positive", xLabel: "step", yLabel: "difference", yScale: .logarithmic,
            series: [
                LineSeries(name: "zeros", values: [0, 0, 0, 0]),
                LineSeries(name: "negative and NaN", values: [-1, .nan, -.infinity, .infinity]),
            ])
    }

    /// 2,000 random inputs in [−1, 1]³, y = sin(π·x₁)·x₂ + x₃², a model with small errors.
    static func regression(count: Int = 2000) -> Scatter3DFigure {
        var generator = SampleGenerator(state: 42)
        var points: [(x1: Double, x2: Double, x3: Double)] = []
        var truth: [Double] = [], prediction: [Double] = []
        for _ in 0..<count {
            let p = (x1: 2 * generator.unit() - 1, x2: 2 * generator.unit() - 1, x3: 2 * generator.unit() - 1)
            let y = sin(Double.pi * p.x1) * p.x2 + p.x3 * p.x3
            points.append(p)
            truth.append(y)
            prediction.append(y + 0.08 * sin(3 * p.x1 + 2 * p.x2) + 0.04 * (generator.unit() - 0.5))
        }
        let range = min(truth.min()!, prediction.min()!)...max(truth.max()!, prediction.max()!)
        return Scatter3DFigure(
            title: "Regression test set: y = sin(πx₁)·x₂ + x₃², coloured by output",
            panels: [
                Scatter3DPanel(title: "true y", points: points, values: truth, colorBarLabel: "y", valueRange: range),
                Scatter3DPanel(title: "predicted ŷ", points: points, values: prediction, colorBarLabel: "ŷ", valueRange: range),
                Scatter3DPanel(
                    title: "residual ŷ − y", points: points, values: zip(prediction, truth).map(-),
                    colormap: .blueWhiteRed, colorBarLabel: "ŷ − y"),
            ],
            bounds: -1...1)
    }
}

@Suite("Gallery")
struct Gallery {
    @Test(
        "writes every sample chart to $CHARTS_SAMPLE_DIR, each a real chart of its size",
        .enabled(if: ProcessInfo.processInfo.environment["CHARTS_SAMPLE_DIR"] != nil))
    func writeSamples() throws {
        let folder = ProcessInfo.processInfo.environment["CHARTS_SAMPLE_DIR"]!
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var otherView = Samples.regression(count: 600)
        otherView.panels.removeLast()
        (otherView.azimuth, otherView.elevation, otherView.bounds) = (30, 45, nil)
        // Each file, its size, the fewest colours it may have (as the chart tests ask), and how to draw it.
        let charts: [(file: String, width: Int, height: Int, minimumColors: Int, render: (String) throws -> Void)] = [
            ("loss.png", 1200, 750, 50, { try Samples.loss().renderPNG(to: $0) }),
            ("loss-train-test.png", 1200, 750, 50, { try Samples.trainAndTestLoss().renderPNG(to: $0) }),
            ("agreement.png", 1200, 750, 50, { try Samples.agreement().renderPNG(to: $0) }),
            ("agreement-identical.png", 1200, 750, 50, { try Samples.agreementIdentical().renderPNG(to: $0) }),
            ("throughput.png", 1200, 750, 50, { try Samples.throughput().renderPNG(to: $0) }),
            ("regression-4d.png", 1800, 650, 2000, { try Samples.regression().renderPNG(to: $0) }),
            ("empty.png", 1200, 750, 10, {
                try LineChart(title: "Empty chart", xLabel: "epoch", yLabel: "loss", series: []).renderPNG(to: $0)
            }),
            ("loss-small.png", 640, 400, 50, { try Samples.trainAndTestLoss().renderPNG(to: $0, width: 640, height: 400) }),
            ("regression-other-view.png", 1200, 600, 2000, { try otherView.renderPNG(to: $0, width: 1200, height: 600) }),
            ("odd-bars.png", 1200, 750, 50, { try Samples.oddBars().renderPNG(to: $0) }),
            ("log-no-positive.png", 1200, 750, 10, { try Samples.noPositiveValues().renderPNG(to: $0) }),
        ]
        for chart in charts {
            let path = folder + "/" + chart.file
            try chart.render(path)
            let image = try PNGImage(path: path)                 // written, and decodes as a PNG
            expectRealChart(image, width: chart.width, height: chart.height, minimumColors: chart.minimumColors,
                            name: chart.file)
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder)).isSuperset(of: charts.map(\.file)))
    }
}
