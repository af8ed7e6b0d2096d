"""Demo content of the embedded mode: a short bilingual information-literacy quiz."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Choice, Question, Quiz

LITERACY_QUIZ_SLUG = "literasi-informasi-dasar"

# (area, question id/en, [(choice id/en, correct)])
QUESTIONS = [
    (
        "searching",
        (
            "Anda mencari artikel tentang banjir di Semarang. Kata kunci mana yang paling tepat?",
            "You look for articles about floods in Semarang. Which search terms fit best?",
        ),
        [
            (("banjir Semarang", "Semarang floods"), True),
            (("berita", "news"), False),
            (("air", "water"), False),
        ],
    ),
    (
        "evaluating",
        (
            "Sebuah pesan berantai mengklaim obat ajaib tanpa menyebut sumber. Apa langkah pertama?",
            "A chain message claims a miracle cure and names no source. What do you do first?",
        ),
        [
            (("Langsung meneruskannya ke keluarga", "Forward it to family at once"), False),
            (
                ("Mencari sumber aslinya dan cek fakta", "Look for its original source and fact-check it"),
                True,
            ),
            (("Percaya karena banyak yang membagikan", "Believe it because many shared it"), False),
        ],
    ),
    (
        "evaluating",
        (
            "Manakah tanda sumber informasi yang dapat dipercaya?",
            "Which is a sign of a trustworthy source?",
        ),
        [
            (("Judul yang sangat heboh", "A sensational headline"), False),
            (("Penulis dan tanggal terbit yang jelas", "A named author and a publication date"), True),
            (("Banyak tanda seru", "Many exclamation marks"), False),
        ],
    ),
    (
        "ethical_use",
        (
            "Anda memakai kutipan dari buku untuk tugas. Apa yang harus dilakukan?",
            "You quote a book in an assignment. What must you do?",
        ),
        [
            (("Menyebutkan sumbernya", "Cite the source"), True),
            (("Mengakuinya sebagai tulisan sendiri", "Present it as your own words"), False),
            (("Mengubah sedikit kata agar tidak ketahuan", "Change a few words to hide it"), False),
        ],
    ),
    (
        "information_need",
        (
            "Sebelum mencari, apa yang sebaiknya Anda rumuskan dahulu?",
            "Before searching, what should you put into words first?",
        ),
        [
            (("Pertanyaan yang ingin dijawab", "The question you want answered"), True),
            (("Jumlah halaman hasil", "How many result pages to read"), False),
            (("Warna sampul buku", "The colour of the book cover"), False),
        ],
    ),
]


def seed_demo(session: Session) -> list[str]:
    if session.scalar(select(Quiz.id).where(Quiz.slug == LITERACY_QUIZ_SLUG)):
        return []
    quiz = Quiz(
        slug=LITERACY_QUIZ_SLUG,
        title_id="Kuis Literasi Informasi Dasar",
        title_en="Basic Information Literacy Quiz",
        description_id="Lima pertanyaan tentang mencari, menilai, dan menggunakan informasi.",
        description_en="Five questions on searching for, judging and using information.",
        audience="public",
        purpose="practice",
        pass_percent=60.0,
    )
    for position, (area, (text_id, text_en), choices) in enumerate(QUESTIONS, start=1):
        question = Question(position=position, text_id=text_id, text_en=text_en, competency_area=area)
        for choice_position, ((choice_id, choice_en), correct) in enumerate(choices, start=1):
            question.choices.append(
                Choice(position=choice_position, text_id=choice_id, text_en=choice_en, is_correct=correct)
            )
        quiz.questions.append(question)
    session.add(quiz)
    return [f"quiz: /assessment/quizzes/{LITERACY_QUIZ_SLUG}"]
