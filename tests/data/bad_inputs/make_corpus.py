"""Regenerate the bad-input corpus: small files shaped like what real survey/review exports contain.

Run ``.venv/bin/python tests/data/bad_inputs/make_corpus.py`` from the repository root. The texts are
invented (real-looking es/en feedback), no row comes from a data set. CASES.md says what vocmine does
with each file; tests/pipelines/test_bad_inputs.py checks it.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent

SURVEY_HEADER = "id,fecha,sucursal,nota,comentario\n"
ACCENTED = (
    SURVEY_HEADER
    + '1,14/03/2024,Peñalolén,9,"La atención fue rápida y el café, excelente"\n'
    + "2,15/03/2024,Ñuñoa,4,“Demasiado caro”: 20 € por un menú pequeño\n"
)
LATIN1 = (
    SURVEY_HEADER
    + '1,14/03/2024,Peñalolén,9,"Atención rápida, año tras año"\n'
    + "2,15/03/2024,Ñuñoa,3,Niño mal atendido\n"
)


def write_bytes(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def write_text(name: str, text: str, encoding: str = "utf-8") -> None:
    (HERE / name).write_bytes(text.encode(encoding))


def main() -> None:
    write_text("cp1252_accents.csv", ACCENTED, "cp1252")
    write_text("latin1_accents.csv", LATIN1, "latin-1")
    write_text("utf8_bom.csv", SURVEY_HEADER + "1,14/03/2024,Centro,8,Buena atención\n", "utf-8-sig")
    write_bytes(
        "utf16_excel.txt",
        b"\xff\xfe"
        + "id\tnota\tcomentario\r\n1\t10\tMuy amables 😊\r\n2\t6\tLa cola era eterna\r\n".encode("utf-16-le"),
    )
    write_text(
        "semicolon_decimal_comma.csv",
        'id;nota;comentario\n1;9,5;Todo perfecto, gracias\n2;6,5;"Precio alto; calidad media"\n3;10;Excelente\n',
    )
    write_text(
        "tab_separated.tsv", "id\tnota\tcomentario\n1\t8\tStaff were lovely, checkout slow\n2\t3\tRude, unhelpful\n"
    )
    write_text(
        "broken_quotes.csv",
        'id,nota,comentario\n1,9,Muy bien\n2,4,"El envío llegó roto y nadie respondió\n3,7,Correcto\n4,10,Genial\n',
    )
    write_text(
        "embedded_newlines.csv",
        'id,nota,comentario\n1,3,"Primero: tardaron una hora.\nSegundo: la comida llegó fría."\n2,9,Rápido\n',
    )
    write_text("ragged_rows.csv", "id,nota,comentario,canal\n1,9,Bien\n2,5,Regular,web,extra\n3,8,Correcto,app\n")
    write_text("header_only.csv", "id,nota,comentario\n")
    write_bytes("empty.csv", b"")
    write_bytes("binary.csv", bytes(range(256)) * 8)

    workbook = openpyxl.Workbook()
    cover = workbook.active
    cover.title = "Portada"
    cover.append(["Encuesta de satisfacción Q1 2024"])
    sheet = workbook.create_sheet("Respuestas")
    sheet.append(["ID", "Comentarios", None, "Nota"])
    sheet.append([None, "Positivo", "Negativo", None])
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("D1:D2")
    sheet.append([101, "Muy amables", "La espera", 8])
    sheet.append([102, None, "Precio excesivo", 3])
    sheet.append([103, "Todo bien", None, 10])
    workbook.save(HERE / "several_sheets_merged_header.xlsx")

    (HERE / "json_object_not_list.json").write_text(
        json.dumps(
            {
                "exported_at": "2024-03-20T10:00:00Z",
                "responses": [
                    {"id": "a1", "nota": 9, "comentario": "Entrega puntual"},
                    {"id": "a2", "nota": 2, "comentario": "Nunca llegó el pedido", "extra": {"canal": "app"}},
                ],
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    write_text(
        "jsonl_bad_line.jsonl",
        '{"id": "j1", "nota": 8, "comentario": "Good value"}\n'
        '{"id": "j2", "nota": 3, "comentario": "Cold food\n'
        '{"id": "j3", "nota": 10, "comentario": "Loved it"}\n',
    )
    write_text(
        "duplicate_ids.csv",
        "id,nota,comentario\n7,9,Muy bien\n7,2,Fatal (otra persona con el mismo id)\n7,9,Muy bien\n8,6,Regular\n",
    )
    write_text(
        "scores_invalid.csv",
        'id,nota,comentario\n1,11,Demasiado\n2,-1,Negativo\n3,"9,5",Casi perfecto\n4,N/A,Sin nota\n'
        "5,diez,Nota en letras\n6,7,Bien\n",
    )
    write_text(
        "stars_formats.csv",
        "id,title,text,stars\n1,Bien,Buen sitio,4/5\n2,Top,Great coffee,★★★★\n3,Ok,Correcto,\"4,0\"\n"
        "4,Genial,Me encantó,5 estrellas\n5,Mal,Horrible,0\n6,Raro,Texto,seis\n",
    )
    write_text(
        "dates_es_en.csv",
        "id,fecha,nota,comentario\n1,14 de marzo de 2024,9,Bien\n2,\"March 14, 2024\",8,Good\n3,2024-03-14,7,Ok\n"
        "4,14/03/2024,6,Regular\n5,14-mar-2024,5,Meh\n6,ayer,5,Fecha inválida\n",
    )
    write_text("excel_serial_dates.csv", "id,fecha,nota,comentario\n1,45365,9,Bien\n2,45366.75,8,Bien\n")
    write_text(
        "empty_texts.csv",
        'id,nota,comentario\n1,8,\n2,,"   "\n3,5,"\t \t"\n4,,\n5,9,Con texto\n',
    )
    write_text("emoji_only.csv", "id,nota,comentario\n1,10,😍😍😍\n2,1,👎\n3,9,👨\u200d👩\u200d👧 🇪🇸\n")
    write_text("long_text.csv", "id,nota,comentario\n1,5," + "Muy largo " * 10_000 + "\n2,8,Corto\n")
    write_text(
        "html_markdown.csv",
        'id,nota,comentario\n1,4,"Great<br/>location &amp; <b>clean</b> rooms"\n'
        '2,6,"**Lento** el servicio, _muy_ lento\n- punto 1\n- punto 2"\n',
    )
    write_text(
        "mixed_es_en.csv",
        "id,nota,comentario\n1,7,\"The staff was nice pero la comida llegó fría, honestly not worth it\"\n",
    )
    write_text(
        "portuguese_chinese.csv",
        "id,nota,comentario\n1,9,O atendimento foi ótimo e muito rápido\n2,3,服务太慢了，食物也是冷的\n",
    )
    write_text(
        "control_zero_width.csv",
        "id,nota,comentario\n1,8,Muy\u200b bien\u00ad atendido\x07 por\u00a0Ana\n"
        "2,3,\ufeffPésimo\x0b servicio\u2028otra línea\n",
    )
    write_text(
        "missing_required_column.csv",
        "row_id,Review_Date,Hotel_Name,Negative_Review,Positive_Review\n0,8/3/2017,Britannia,Small room,Location\n",
    )
    write_text(
        "unknown_extra_column.csv",
        "id,nota,comentario,campaña_utm,navegador\n1,9,Muy fácil comprar,primavera24,Firefox\n",
    )
    pd.DataFrame(
        {"id": [1, 2], "nota": [9.0, None], "comentario": ["Entrega rápida", "Producto defectuoso"],
         "fecha": pd.to_datetime(["2024-03-14", "2024-03-15"])}
    ).to_parquet(HERE / "typed_columns.parquet", index=False)
    pd.DataFrame({"id": [1], "nota": [8], "comentario": ["Exportado desde Excel con nombre .csv"]}).to_excel(
        HERE / "xlsx_named_csv.csv", index=False, engine="openpyxl"
    )
    write_text(
        "booking_placeholders.csv",
        "row_id,Review_Date,Hotel_Name,Negative_Review,Positive_Review,Reviewer_Score\n"
        "0,8/3/2017,Britannia,No Negative, Great breakfast ,9.6\n"
        "1,8/2/2017,Britannia, Noisy room ,No Positive,4.2\n"
        "2,8/1/2017,Britannia,No Negative,No Positive,7.5\n",
    )
    write_text("na_text.csv", "id,title,text,stars\n1,NA,NA,3\n2,NULL,None of the staff helped,1\n")
    write_text(
        "wrapped_quotes_restmex.csv",
        'index,Title,Opinion,Label\n1,"""Comida cara""","""Un lugar ""mágico"", pero caro""",3\n',
    )
    write_text("trailing_empty_rows.csv", "id,nota,comentario\n1,9,Bien\n,,\n,,\n\n")
    write_text("duplicate_header_names.csv", "id,nota,comentario,comentario\n1,7,Primera,Segunda\n")


if __name__ == "__main__":
    main()
