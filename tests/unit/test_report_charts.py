"""The report charts: valid PNGs with readable Polish, gaps for periods without answers, hollow small samples."""

import io

from PIL import Image, ImageDraw, ImageFont

from npsloop.reports.charts import FONTS, SCALE, WIDTH, Bar, Palette, Point, comparison_chart, trend_chart

POLISH = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ"


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def test_the_vendored_font_has_every_polish_letter():
    font = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 24)

    def drawn(text: str) -> bytes:
        image = Image.new("L", (40, 40))
        ImageDraw.Draw(image).text((4, 4), text, font=font, fill=255)
        return image.tobytes()

    missing = drawn("\U000f0000")  # a private-use code point: the font's "no glyph" box
    for letter in POLISH:
        assert drawn(letter) != missing, letter


def test_a_polish_title_draws_differently_from_its_ascii_look_alike():
    points = [Point("W47", 30.0, 20.0, 40.0)]
    polish = _image(trend_chart("Zażółć gęślą jaźń", points, (-100, 100)))
    ascii_ = _image(trend_chart("Zazolc gesla jazn", points, (-100, 100)))
    assert polish.width == WIDTH and polish.tobytes() != ascii_.tobytes()


def test_a_trend_with_no_answers_at_all_is_still_a_chart():
    image = _image(trend_chart("NPS", [Point(f"W{i}", None) for i in range(12)], (-100, 100)))
    assert image.size[0] == WIDTH and image.size[1] > 100


def test_a_small_sample_is_drawn_hollow_and_an_ordinary_one_filled():
    palette = Palette()
    points = [Point("A", 50.0, 40.0, 60.0), Point("B", 50.0, 40.0, 60.0, small_sample=True)]
    image = _image(trend_chart("NPS", points, (-100, 100), palette))
    # Both points sit at the same height; the centres are at 1/4 and 3/4 of the plot's width.
    left, right = 34 * SCALE, WIDTH - 8 * SCALE
    xs = [int(left + (right - left) * f) for f in (0.25, 0.75)]
    ys = [y for y in range(image.height) if image.getpixel((xs[0], y)) == (0x1D, 0x4E, 0xD8)]
    centre = (min(ys) + max(ys)) // 2
    assert image.getpixel((xs[0], centre)) == (0x1D, 0x4E, 0xD8)
    assert image.getpixel((xs[1], centre)) == (0xFF, 0xFF, 0xFF)


def test_the_comparison_grows_with_its_stores_and_keeps_polish_names():
    few = _image(comparison_chart("Sklepy", [Bar("Łódź", 10.0, 0.0, 20.0)], (-100, 100)))
    many = _image(
        comparison_chart(
            "Sklepy",
            [Bar(f"Sklep {i}", 10.0 * i, None, None, True) for i in range(8)],
            (-100, 100),
            small_label="mała próba",
        )
    )
    assert many.height > few.height


def test_the_funnel_draws_a_bar_per_step_as_long_as_its_share_with_polish_labels():
    from npsloop.reports.charts import Step, funnel_chart

    palette = Palette()
    steps = [Step("Wysłane", 200), Step("Doręczone", 100, "50% wysłanych"), Step("Z odpowiedzią", 0, "0% wysłanych")]
    image = _image(funnel_chart(steps, palette))
    assert image.width == WIDTH and image.height < 150 * SCALE

    def bar_end(row: int) -> int:  # the last column of the bar's outline on the row's top edge
        y = (6 + 34 * row + 17 - 11) * SCALE
        return max(x for x in range(image.width) if image.getpixel((x, y)) == (0x1D, 0x4E, 0xD8))

    left = bar_end(2)  # a step of none is a sliver at the bars' start
    assert abs((bar_end(1) - left) / (bar_end(0) - left) - 0.5) < 0.02
    ascii_ = _image(funnel_chart([Step("Wyslane", 200), *steps[1:]], palette))
    assert ascii_.tobytes() != image.tobytes()
